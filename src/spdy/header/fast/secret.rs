//! Which bytes of a sensitive value are secret (see the CRIME rule in the parent module).
//!
//! Most sensitive values are secret whole. A `set-cookie` value is not: each cookie in it
//! (cookies are NUL-separated, SPDY3.md §4) is `name=value` — the secret — followed by
//! attributes (`; path=/; domain=…; expires=…`) that describe the cookie to the client
//! and are no more secret than the other response headers beside them. Keeping only the
//! `name=value` parts secret lets the attributes compress like any other text, while the
//! secret parts keep the whole-value rule: literals, or one copy of an identical whole
//! secret part sent before.

/// How a sensitive value divides into secret and public bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// All of it is secret.
    Whole,
    /// `set-cookie`: in each NUL-separated cookie, the bytes before its first `;`.
    SetCookie,
}

impl Shape {
    pub(super) fn of(name: &[u8]) -> Shape {
        if name == b"set-cookie" {
            Shape::SetCookie
        } else {
            Shape::Whole
        }
    }

    /// The secret ranges of `value`, in order, none empty.
    pub(super) fn secret_ranges(self, value: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
        let whole = (self == Shape::Whole && !value.is_empty()).then_some((0, value.len()));
        let parts = (self == Shape::SetCookie).then(|| {
            let mut start = 0;
            value.split(|&b| b == 0).filter_map(move |part| {
                let s = start;
                start += part.len() + 1;
                let secret = part.iter().position(|&b| b == b';').unwrap_or(part.len());
                (secret > 0).then_some((s, s + secret))
            })
        });
        whole.into_iter().chain(parts.into_iter().flatten())
    }

    /// Where the public bytes starting at `x` end: the first secret byte at or after `x`
    /// (`x` itself when it is secret), or `value.len()`.
    pub(super) fn public_end(self, value: &[u8], x: usize) -> usize {
        match self {
            Shape::Whole => x.min(value.len()),
            Shape::SetCookie => {
                if x >= value.len() {
                    return value.len();
                }
                // x is secret when no ';' stands between it and its cookie's start (the
                // value's start or the NUL before it), and it is neither ';' nor NUL; the
                // backward scan stops at the nearest ';' or NUL, so it stays short
                let after_separator =
                    value[..x].iter().rposition(|&b| b == b';' || b == 0).is_some_and(|p| value[p] == b';');
                if !after_separator && value[x] != b';' && value[x] != 0 {
                    return x;
                }
                value[x..].iter().position(|&b| b == 0).map_or(value.len(), |p| x + p + 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_secrets_are_the_name_value_of_each_cookie() {
        let v = b"a=1; path=/\0bb=22\0;odd\0c=3;x";
        let r: Vec<_> = Shape::SetCookie.secret_ranges(v).map(|(s, e)| &v[s..e]).collect();
        assert_eq!(r, [&b"a=1"[..], b"bb=22", b"c=3"]);
        // public runs end at the next cookie (whose first byte is secret)
        assert_eq!(Shape::SetCookie.public_end(v, 0), 0);
        assert_eq!(Shape::SetCookie.public_end(v, 2), 2);
        assert_eq!(Shape::SetCookie.public_end(v, 3), 12);
        assert_eq!(Shape::SetCookie.public_end(v, 11), 12);
        assert_eq!(Shape::SetCookie.public_end(v, 12), 12);
        assert_eq!(Shape::SetCookie.public_end(v, 17), 18);
        assert_eq!(Shape::SetCookie.public_end(v, 18), 23);
        assert_eq!(Shape::SetCookie.public_end(v, 26), v.len());
        assert_eq!(Shape::SetCookie.public_end(v, v.len()), v.len());
    }

    #[test]
    fn whole_values_are_all_secret() {
        assert_eq!(Shape::Whole.secret_ranges(b"abc").collect::<Vec<_>>(), [(0, 3)]);
        assert_eq!(Shape::Whole.secret_ranges(b"").count(), 0);
        assert_eq!(Shape::Whole.public_end(b"abc", 1), 1);
        assert_eq!(Shape::of(b"cookie"), Shape::Whole);
    }
}
