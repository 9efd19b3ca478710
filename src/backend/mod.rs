//! Per-shard backend bookkeeping: which backend serves the next exchange (round robin or
//! least in flight, skipping ejected ones), passive health (consecutive failures eject a
//! backend for a while), and the idle keep-alive connections kept per backend (LIFO, so
//! the warmest connection is reused, with a cap and an idle timeout). Connections are
//! opaque keys here; the shard owns the sockets. Time is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::Balance;

/// Pool policy (from [`crate::config::Backends`]).
#[derive(Clone, Debug)]
pub struct PoolPolicy {
    pub balance: Balance,
    pub max_idle_per_backend: usize,
    pub idle_timeout: Duration,
    pub eject_after_failures: u32,
    pub eject_for: Duration,
}

#[derive(Debug)]
struct Backend<K> {
    in_flight: u32,
    consecutive_failures: u32,
    ejected_until: Option<Instant>,
    /// Idle connections, most recently used at the back, with the time they went idle.
    idle: VecDeque<(K, Instant)>,
}

/// The backends of one shard.
#[derive(Debug)]
pub struct Pool<K> {
    policy: PoolPolicy,
    backends: Vec<Backend<K>>,
    next: usize,
}

impl<K: Copy + PartialEq> Pool<K> {
    pub fn new(count: usize, policy: PoolPolicy) -> Self {
        let backends = (0..count)
            .map(|_| Backend { in_flight: 0, consecutive_failures: 0, ejected_until: None, idle: VecDeque::new() })
            .collect();
        Pool { policy, backends, next: 0 }
    }

    pub fn len(&self) -> usize {
        self.backends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.backends.is_empty()
    }

    /// Chooses a backend for a new exchange and counts it in flight. When every backend is
    /// ejected the one whose ejection ends first is tried anyway (failing open beats
    /// refusing all traffic on a guess).
    pub fn pick(&mut self, now: Instant) -> Option<usize> {
        let n = self.backends.len();
        if n == 0 {
            return None;
        }
        let healthy = |b: &Backend<K>| b.ejected_until.is_none_or(|t| t <= now);
        let chosen = match self.policy.balance {
            Balance::RoundRobin => (0..n).map(|k| (self.next + k) % n).find(|&i| healthy(&self.backends[i])),
            Balance::LeastInFlight => (0..n)
                .map(|k| (self.next + k) % n)
                .filter(|&i| healthy(&self.backends[i]))
                .min_by_key(|&i| self.backends[i].in_flight),
        };
        let chosen = chosen.unwrap_or_else(|| {
            (0..n).min_by_key(|&i| self.backends[i].ejected_until.unwrap_or(now)).unwrap_or(0)
        });
        self.next = (chosen + 1) % n;
        self.backends[chosen].in_flight += 1;
        Some(chosen)
    }

    /// An idle connection to `backend`, if one is warm (expired ones are left for
    /// [`Pool::expire`]).
    pub fn take_idle(&mut self, backend: usize, now: Instant) -> Option<K> {
        let timeout = self.policy.idle_timeout;
        let b = self.backends.get_mut(backend)?;
        // The most recently used is the warmest; if even it is too old, every idle
        // connection is, and expire() closes them.
        match b.idle.back() {
            Some(&(key, since)) if now.saturating_duration_since(since) < timeout => {
                b.idle.pop_back();
                Some(key)
            }
            _ => None,
        }
    }

    /// An exchange on `backend` ended. `success` feeds passive health.
    pub fn finish(&mut self, backend: usize, success: bool, now: Instant) {
        let Some(b) = self.backends.get_mut(backend) else { return };
        b.in_flight = b.in_flight.saturating_sub(1);
        if success {
            b.consecutive_failures = 0;
            b.ejected_until = None;
        } else {
            b.consecutive_failures += 1;
            if b.consecutive_failures >= self.policy.eject_after_failures {
                b.ejected_until = Some(now + self.policy.eject_for);
            }
        }
    }

    /// Returns a connection for reuse. `Err(key)`: the idle cap is reached, close it.
    pub fn put_idle(&mut self, backend: usize, key: K, now: Instant) -> Result<(), K> {
        let cap = self.policy.max_idle_per_backend;
        match self.backends.get_mut(backend) {
            Some(b) if b.idle.len() < cap => {
                b.idle.push_back((key, now));
                Ok(())
            }
            _ => Err(key),
        }
    }

    /// Forgets an idle connection that the backend closed.
    pub fn remove_idle(&mut self, key: K) -> bool {
        for b in &mut self.backends {
            if let Some(pos) = b.idle.iter().position(|(k, _)| *k == key) {
                b.idle.remove(pos);
                return true;
            }
        }
        false
    }

    /// Idle connections past the idle timeout, removed from the pool: close them.
    pub fn expire(&mut self, now: Instant, out: &mut Vec<K>) {
        let timeout = self.policy.idle_timeout;
        for b in &mut self.backends {
            while let Some(&(key, since)) = b.idle.front() {
                if now.saturating_duration_since(since) < timeout {
                    break;
                }
                b.idle.pop_front();
                out.push(key);
            }
        }
    }

    /// When the next idle connection expires.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.backends.iter().filter_map(|b| b.idle.front().map(|&(_, t)| t + self.policy.idle_timeout)).min()
    }

    pub fn is_ejected(&self, backend: usize, now: Instant) -> bool {
        self.backends.get(backend).and_then(|b| b.ejected_until).is_some_and(|t| t > now)
    }

    pub fn in_flight(&self, backend: usize) -> u32 {
        self.backends.get(backend).map_or(0, |b| b.in_flight)
    }

    pub fn idle_count(&self) -> usize {
        self.backends.iter().map(|b| b.idle.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(balance: Balance) -> PoolPolicy {
        PoolPolicy {
            balance,
            max_idle_per_backend: 2,
            idle_timeout: Duration::from_secs(10),
            eject_after_failures: 2,
            eject_for: Duration::from_secs(5),
        }
    }

    #[test]
    fn round_robin_cycles() {
        let now = Instant::now();
        let mut p: Pool<u32> = Pool::new(3, policy(Balance::RoundRobin));
        let picks: Vec<_> = (0..6).map(|_| p.pick(now).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn least_in_flight_prefers_the_idlest() {
        let now = Instant::now();
        let mut p: Pool<u32> = Pool::new(2, policy(Balance::LeastInFlight));
        assert_eq!(p.pick(now), Some(0));
        assert_eq!(p.pick(now), Some(1));
        p.finish(1, true, now);
        assert_eq!(p.pick(now), Some(1));
    }

    #[test]
    fn consecutive_failures_eject_then_expire() {
        let now = Instant::now();
        let mut p: Pool<u32> = Pool::new(2, policy(Balance::RoundRobin));
        for _ in 0..2 {
            let b = p.pick(now).unwrap();
            p.finish(b, b != 0, now);
            let b = p.pick(now).unwrap();
            p.finish(b, b != 0, now);
        }
        assert!(p.is_ejected(0, now));
        assert!((0..4).all(|_| p.pick(now) == Some(1)));
        assert!(!p.is_ejected(0, now + Duration::from_secs(6)));
        let later = now + Duration::from_secs(6);
        let picks: Vec<_> = (0..2).map(|_| p.pick(later).unwrap()).collect();
        assert!(picks.contains(&0));
    }

    #[test]
    fn all_ejected_fails_open() {
        let now = Instant::now();
        let mut p: Pool<u32> = Pool::new(1, policy(Balance::RoundRobin));
        p.finish(0, false, now);
        p.finish(0, false, now);
        assert!(p.is_ejected(0, now));
        assert_eq!(p.pick(now), Some(0));
    }

    #[test]
    fn idle_connections_are_lifo_capped_and_expire() {
        let now = Instant::now();
        let mut p: Pool<u32> = Pool::new(1, policy(Balance::RoundRobin));
        assert_eq!(p.put_idle(0, 1, now), Ok(()));
        assert_eq!(p.put_idle(0, 2, now + Duration::from_secs(1)), Ok(()));
        assert_eq!(p.put_idle(0, 3, now), Err(3));
        assert_eq!(p.take_idle(0, now + Duration::from_secs(2)), Some(2));
        assert!(p.remove_idle(1));
        assert_eq!(p.put_idle(0, 4, now), Ok(()));
        let mut expired = Vec::new();
        p.expire(now + Duration::from_secs(11), &mut expired);
        assert_eq!(expired, [4]);
        assert_eq!(p.idle_count(), 0);
    }
}
