mod support_corpus;
use spdygate::spdy::header::{new_encoder, CompressorKind};
use spdygate::spdy::version::Version;
use support_corpus::*;
#[test]
fn per_story() {
    let v = Version::Spdy3;
    for s in load() {
        let mut enc = new_encoder(v, &CompressorKind::Fast { sensitive: vec![] });
        let mut z = Zlib::new(v, 6, 15);
        let mut z11 = Zlib::new(v, 6, 11);
        let (mut a, mut b, mut c, mut raw) = (0, 0, 0, 0);
        for blk in &s.blocks {
            let mut o = Vec::new(); enc.encode(blk, &mut o); a += o.len();
            let nv = nv_bytes(v, blk); raw += nv.len();
            let mut o = Vec::new(); z.compress(&nv, &mut o); b += o.len();
            let mut o = Vec::new(); z11.compress(&nv, &mut o); c += o.len();
        }
        println!("{} n={} raw={raw} ours={a} z6={b} z6w11={c} ratio={:.2}", s.name, s.blocks.len(), a as f64 / b as f64);
    }
}
#[test]
fn dump() {
    let v = Version::Spdy3;
    let s = &load()[29];
    let mut enc = new_encoder(v, &CompressorKind::Fast { sensitive: vec![] });
    let mut z = Zlib::new(v, 6, 15);
    let mut hist = std::collections::BTreeMap::new();
    for (i, blk) in s.blocks.iter().enumerate() {
        let mut o = Vec::new(); z.compress(&nv_bytes(v, blk), &mut o);
        if (100..106).contains(&i) { eprintln!("zlib block {i}: {} bytes", o.len()); }
        let zl = o.len();
        let mut o = Vec::new(); enc.encode(blk, &mut o);
        *hist.entry((o.len() as i64 - zl as i64) / 10 * 10).or_insert(0) += 1;
        continue;
        if i == 100 { std::env::set_var("FAST_DEBUG", "1"); }
        if i == 106 { std::env::remove_var("FAST_DEBUG"); }
        let mut o = Vec::new(); enc.encode(blk, &mut o);
        if (100..106).contains(&i) { eprintln!("block {i}: {} bytes", o.len()); }
    }
    eprintln!("{hist:?}");
}
