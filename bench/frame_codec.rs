//! Frame codec throughput: decoding and encoding one frame of each kind, and the
//! incremental reader over 1 MiB of mixed frames (whole, and in 16 KiB reads as a socket
//! would deliver them). Short measurement windows: the whole bench runs in under a minute.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use spdygate::spdy::frame::{
    flags, Data, Frame, FrameReader, GoAway, GoAwayStatus, Headers, Ping, ReadItem, RstStatus, RstStream, Setting,
    SettingId, Settings, SynReply, SynStream, WindowUpdate,
};
use spdygate::spdy::{StreamId, Version};

const VERSION: Version = Version::Spdy31;

fn sample_frames(block: &'static [u8], body: &'static [u8]) -> Vec<(&'static str, Frame<'static>)> {
    let id = StreamId::new(1);
    vec![
        (
            "syn_stream",
            Frame::SynStream(SynStream {
                stream_id: id,
                associated_to: StreamId::ZERO,
                priority: 3,
                slot: 0,
                flags: flags::FIN,
                header_block: block,
            }),
        ),
        ("syn_reply", Frame::SynReply(SynReply { stream_id: id, flags: 0, header_block: block })),
        ("headers", Frame::Headers(Headers { stream_id: id, flags: 0, header_block: block })),
        ("rst_stream", Frame::RstStream(RstStream { stream_id: id, status: RstStatus::CANCEL })),
        (
            "settings",
            Frame::Settings(Settings {
                flags: 0,
                entries: vec![
                    Setting { id: SettingId::MAX_CONCURRENT_STREAMS, flags: 0, value: 100 },
                    Setting { id: SettingId::INITIAL_WINDOW_SIZE, flags: 0, value: 1 << 20 },
                ],
            }),
        ),
        ("ping", Frame::Ping(Ping { id: 2 })),
        ("goaway", Frame::GoAway(GoAway { last_good_stream_id: id, status: GoAwayStatus::OK })),
        ("window_update", Frame::WindowUpdate(WindowUpdate { stream_id: StreamId::ZERO, delta: 1 << 20 })),
        ("data_1k", Frame::Data(Data { stream_id: id, flags: 0, payload: body })),
    ]
}

fn codec(c: &mut Criterion) {
    let block: &'static [u8] = Box::leak(vec![0x5a; 200].into_boxed_slice());
    let body: &'static [u8] = Box::leak(vec![0xa5; 1024].into_boxed_slice());
    let frames = sample_frames(block, body);

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for (name, frame) in &frames {
        let mut bytes = Vec::new();
        frame.encode(VERSION, &mut bytes);
        group.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, bytes| {
            b.iter(|| Frame::decode(VERSION, black_box(bytes)).map(|f| f.map(|(_, used)| used)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(4096);
    for (name, frame) in &frames {
        group.bench_with_input(BenchmarkId::from_parameter(name), frame, |b, frame| {
            b.iter(|| {
                out.clear();
                black_box(frame).encode(VERSION, &mut out);
                out.len()
            })
        });
    }
    group.finish();

    // 1 MiB of a mixed stream: every frame kind, DATA of 1 KiB and 100 bytes.
    let small: &'static [u8] = Box::leak(vec![0xa5; 100].into_boxed_slice());
    let mut mixed = Vec::new();
    let mut count = 0u64;
    while mixed.len() < 1 << 20 {
        for (_, frame) in &frames {
            frame.encode(VERSION, &mut mixed);
            count += 1;
        }
        for _ in 0..4 {
            Frame::Data(Data { stream_id: StreamId::new(3), flags: 0, payload: small }).encode(VERSION, &mut mixed);
            count += 1;
        }
    }
    let mut group = c.benchmark_group("reader_1mib_mixed");
    group.throughput(Throughput::Elements(count));
    for read_size in [mixed.len(), 16 * 1024] {
        let name = if read_size == mixed.len() { "one_read".to_string() } else { format!("reads_of_{read_size}") };
        group.bench_function(name, |b| {
            let mut reader = FrameReader::new(VERSION, 65_536);
            b.iter(|| {
                let mut items = 0u64;
                for piece in mixed.chunks(read_size) {
                    let mut input = piece;
                    while let Some(item) = reader.read(&mut input).expect("valid stream") {
                        let _: ReadItem<'_> = black_box(item);
                        items += 1;
                    }
                }
                items
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = codec
}
criterion_main!(benches);
