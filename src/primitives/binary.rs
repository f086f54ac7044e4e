//! Base64 values for the `BinaryEquals` operator (R-OPB-2).
//!
//! Both the policy value and the context value are base64 text; they are decoded with the
//! standard alphabet (`A–Z a–z 0–9 + /`), padding required, and compared as bytes. The engine is
//! the `base64` crate's `STANDARD`, which is strict: no whitespace, no URL-safe alphabet, no
//! missing or extra padding, and non-zero trailing bits (`QR==`) are rejected. Decoding is
//! therefore one-to-one: two valid inputs decode to the same bytes iff their texts are equal.
//!
//! ```
//! use fastiam::primitives::binary::decode_base64;
//! assert_eq!(decode_base64("QUJD"), Some(b"ABC".to_vec()));
//! assert_eq!(decode_base64("QQ"), None); // padding required
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Decodes standard-alphabet, padded base64 (R-OPB-2); `None` if `s` is not valid. The empty
/// string decodes to no bytes.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("", Some(b"")),
            ("QQ==", Some(b"A")),
            ("QUI=", Some(b"AB")),
            ("QUJD", Some(b"ABC")),
            ("+/8=", Some(&[0xfb, 0xff])),
            ("AAECAwQ=", Some(&[0, 1, 2, 3, 4])),
            ("QQ", None),
            ("QUI", None),
            ("QQ=", None),
            ("QQ===", None),
            ("QUJD====", None),
            ("QR==", None),
            ("-_8=", None),
            ("QU JD", None),
            (" QUJD", None),
            ("QUJD\n", None),
            ("QQ==QUJD", None),
            ("Q", None),
            ("\u{00E9}", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                decode_base64(input).as_deref(),
                *want,
                "decode_base64({input:?})"
            );
        }
    }

    #[test]
    fn round_trips_and_is_one_to_one() {
        for len in 0..64_u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(len))
                .collect();
            let text = STANDARD.encode(&bytes);
            assert_eq!(decode_base64(&text), Some(bytes), "round trip of {text}");
        }
    }
}

/// Whether `s` is base64 that [`decode_base64`] accepts, without allocating: decoded in
/// 4-character-aligned chunks into a stack buffer (padding may only end the last chunk,
/// so chunk-wise validity is whole-string validity). Because that decoding is one-to-one
/// (padding required, trailing bits zero), two valid texts decode to equal bytes exactly
/// when the texts are equal: the compiled interpreter compares `BinaryEquals` values as
/// text (R-OPB-2).
pub fn is_valid_base64(s: &str) -> bool {
    const CHUNK: usize = 1024;
    if s.len() % 4 != 0 {
        return false;
    }
    let mut buf = [0u8; CHUNK / 4 * 3];
    s.as_bytes()
        .chunks(CHUNK)
        .all(|chunk| STANDARD.decode_slice(chunk, &mut buf).is_ok())
}

#[cfg(test)]
mod validity_tests {
    use super::*;

    #[test]
    fn validity_agrees_with_decoding() {
        let long = "QUJD".repeat(700);
        let long_padded = format!("{}QQ==", "QUJD".repeat(300));
        for s in [
            "",
            "QQ==",
            "QR==",
            "QUJD",
            "QUJ",
            "QQ=",
            "Q===",
            "QQ==QQ==",
            "@@@@",
            &long,
            &long_padded,
        ] {
            assert_eq!(is_valid_base64(s), decode_base64(s).is_some(), "{s:.20}");
        }
    }
}
