//! Wallet addresses whose format carries a checksum: a typo in one sends donations to an
//! address nobody holds, for good, so the checksum is verified wherever the format is
//! recognised, whatever the network label says. Formats without a checksum (or unknown ones)
//! pass; only their characters are checked (see `donation.rs`).
//!
//! - Base58Check, 25 bytes decoded (Bitcoin's `1…`/`3…`, Tron's `T…`, Litecoin's, Dogecoin's,
//!   and the XRP Ledger's `r…` in its own alphabet): the last 4 bytes are the first 4 of
//!   SHA-256(SHA-256(the rest)).
//! - Bech32 and Bech32m (`bc1…`, `ltc1…`, and any `hrp1…` in one case): BIP 173 and BIP 350.
//! - Ethereum-style `0x` + 40 hex digits in mixed case (EIP-55): the case of each letter is a
//!   bit of Keccak-256 of the lower-case hex. All lower or all upper case carries no checksum.
//! - TON's user-friendly form, 48 characters of base64 or base64url (TEP 2): CRC16-XMODEM of
//!   the first 34 of its 36 bytes.

use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// The address formats whose checksum is verified, named in the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksummedFormat {
    Base58Check,
    Bech32,
    Eip55,
    TonFriendly,
}

impl ChecksummedFormat {
    pub fn name(self) -> &'static str {
        match self {
            ChecksummedFormat::Base58Check => "Base58Check (Bitcoin, Tron, XRP and the like)",
            ChecksummedFormat::Bech32 => "Bech32 (bc1…)",
            ChecksummedFormat::Eip55 => "EIP-55 (0x…, mixed case)",
            ChecksummedFormat::TonFriendly => "TON",
        }
    }
}

/// `Some(valid)` when an address is in the format a check knows, `None` when it is not.
type Check = fn(&str) -> Option<bool>;

/// The format of `address` when it is a checksummed one whose checksum does not match.
pub fn checksum_mismatch(address: &str) -> Option<ChecksummedFormat> {
    let checks: [(ChecksummedFormat, Check); 4] = [
        (ChecksummedFormat::Eip55, eip55),
        (ChecksummedFormat::Bech32, bech32),
        (ChecksummedFormat::TonFriendly, ton_friendly),
        (ChecksummedFormat::Base58Check, base58check),
    ];
    let results = checks.map(|(format, check)| (format, check(address)));
    // A shape more than one format shares (a 48-character Bech32 address looks like base64):
    // the one whose checksum matches is the one it is.
    if results.iter().any(|(_, valid)| *valid == Some(true)) {
        return None;
    }
    results
        .into_iter()
        .find_map(|(format, valid)| (valid == Some(false)).then_some(format))
}

/// `Some(valid)` for `0x` + 40 hex digits in mixed case; `None` for anything else.
fn eip55(address: &str) -> Option<bool> {
    let hex = address.strip_prefix("0x")?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    if !(has_lower && has_upper) {
        return None;
    }
    let hash = Keccak256::digest(hex.to_ascii_lowercase().as_bytes());
    Some(hex.bytes().enumerate().all(|(i, b)| {
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        !b.is_ascii_alphabetic() || (nibble >= 8) == b.is_ascii_uppercase()
    }))
}

const BECH32_CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_CONST: u32 = 1;
const BECH32M_CONST: u32 = 0x2bc8_30a3;

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GENERATOR: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    values.fold(1u32, |chk, v| {
        let top = chk >> 25;
        let chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        GENERATOR
            .iter()
            .enumerate()
            .fold(chk, |c, (i, g)| if (top >> i) & 1 == 1 { c ^ g } else { c })
    })
}

/// `Some(valid)` for a string shaped like a Bech32 address (a human-readable part of two
/// letters or more, `1`, at least six data characters, one case, 14 to 90 characters: an EOS account
/// name such as `eos1qpzry9x8` is shorter); `None` for anything else.
fn bech32(address: &str) -> Option<bool> {
    if !(14..=90).contains(&address.len())
        || (address.bytes().any(|b| b.is_ascii_lowercase())
            && address.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return None;
    }
    let lower = address.to_ascii_lowercase();
    let (hrp, data) = lower.rsplit_once('1')?;
    // Every chain's prefix has two letters or more (`bc`, `ltc`, `cosmos`); Filecoin's `f1…` is
    // base32 with a checksum of its own.
    if hrp.len() < 2 || !hrp.bytes().all(|b| b.is_ascii_lowercase()) || data.len() < 6 {
        return None;
    }
    let values = data
        .bytes()
        .map(|c| BECH32_CHARSET.iter().position(|&x| x == c))
        .collect::<Option<Vec<usize>>>()?;
    let expanded = hrp
        .bytes()
        .map(|b| b >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.bytes().map(|b| b & 31))
        // Positions in a 32-character alphabet always fit a byte.
        .chain(values.into_iter().map(|v| v as u8));
    let residue = bech32_polymod(expanded);
    Some(residue == BECH32_CONST || residue == BECH32M_CONST)
}

/// `Some(valid)` for 48 characters of base64 or base64url that decode to TON's 36 bytes with
/// its flags (bounceable or not, test-only or not) and workchain (0 or -1) in front; `None`
/// for anything else (a 48-character Polkadot address is base64 too, but not these bytes).
fn ton_friendly(address: &str) -> Option<bool> {
    if address.len() != 48 {
        return None;
    }
    let bytes = base64_decode(address)?;
    if !matches!(bytes[0], 0x11 | 0x51 | 0x91 | 0xd1) || !matches!(bytes[1], 0x00 | 0xff) {
        return None;
    }
    let (body, crc) = bytes.split_at(34);
    Some(crc16_xmodem(body).to_be_bytes() == crc)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut word = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            word |= value(c)? << (18 - 6 * i);
        }
        let bytes = word.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

fn crc16_xmodem(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &byte| {
        (0..8).fold(crc ^ (u16::from(byte) << 8), |c, _| {
            if c & 0x8000 != 0 {
                (c << 1) ^ 0x1021
            } else {
                c << 1
            }
        })
    })
}

/// Bitcoin's Base58 alphabet (also Tron's, Litecoin's, Dogecoin's), and the XRP Ledger's, which
/// orders the same characters otherwise: an XRP address read in Bitcoin's would look mistyped.
const BASE58_ALPHABETS: [&[u8; 58]; 2] = [
    b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    b"rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz",
];

/// `Some(valid)` for Base58 that decodes to 25 bytes (version, 20-byte hash, checksum) in one
/// of the alphabets; `None` for anything else (Solana's 32-byte keys, say, carry no checksum).
fn base58check(address: &str) -> Option<bool> {
    if !(25..=36).contains(&address.len()) {
        return None;
    }
    let decoded: Vec<Vec<u8>> = BASE58_ALPHABETS
        .iter()
        .filter_map(|alphabet| base58_decode(address, alphabet))
        .filter(|bytes| bytes.len() == 25)
        .collect();
    if decoded.is_empty() {
        return None;
    }
    Some(decoded.iter().any(|bytes| {
        let (payload, checksum) = bytes.split_at(21);
        Sha256::digest(Sha256::digest(payload))[..4] == *checksum
    }))
}

fn base58_decode(text: &str, alphabet: &[u8; 58]) -> Option<Vec<u8>> {
    // Big-endian base-256 digits of the number the text spells in base 58.
    let mut number: Vec<u8> = Vec::with_capacity(25);
    for c in text.bytes() {
        let mut carry = alphabet.iter().position(|&x| x == c)? as u32;
        for digit in number.iter_mut().rev() {
            carry += u32::from(*digit) * 58;
            *digit = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            number.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    // Each leading zero digit is a leading zero byte.
    let zeros = text.bytes().take_while(|&b| b == alphabet[0]).count();
    let mut bytes = vec![0u8; zeros];
    bytes.extend(number);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_addresses_pass() {
        for address in [
            // Base58Check: Bitcoin P2PKH and P2SH, Tron.
            "1CC3X2gu58d6wXUWMffpuzN9JAfTUWu4Kj",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
            // The XRP Ledger's genesis account, in its own Base58 alphabet.
            "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",
            // Bech32 (BIP 173) and Bech32m (BIP 350) test vectors.
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
            // EIP-55 test vectors.
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            // TON (TEP 2's example, bounceable and not; and a base64url one).
            "Ef8zMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzM0vF",
            "Uf8zMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMzMxYA",
            "EQAKtVj024T9MfYaJzU1xnDAkf_GGbHNu-V2mgvyjTuP6rvC",
        ] {
            assert_eq!(checksum_mismatch(address), None, "{address}");
        }
    }

    #[test]
    fn one_wrong_character_is_caught() {
        for (address, format) in [
            (
                "1CC3X2gu58d6wXUWMffpuzN9JAfTUWu4Kk",
                ChecksummedFormat::Base58Check,
            ),
            (
                "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T",
                ChecksummedFormat::Base58Check,
            ),
            (
                "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
                ChecksummedFormat::Bech32,
            ),
            (
                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
                ChecksummedFormat::Eip55,
            ),
            (
                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAee",
                ChecksummedFormat::Eip55,
            ),
            (
                "EQAKtVj024T9MfYaJzU1xnDAkf_GGbHNu-V2mgvyjTuP6rvD",
                ChecksummedFormat::TonFriendly,
            ),
        ] {
            assert_eq!(checksum_mismatch(address), Some(format), "{address}");
        }
    }

    #[test]
    fn formats_without_a_checksum_pass() {
        for address in [
            // Lower-case Ethereum addresses carry no checksum.
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            // A Polkadot address (48 characters, like TON's), and a generic Substrate one.
            "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5",
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
            // A Filecoin address (no `b`, `i` or `o`: shaped like Bech32 but for its prefix).
            "f1qpzry9x8gf2tvdw0s3jn54khce6mua7lqpzry9x",
            // A Solana key: Base58 of 32 bytes. An EOS account name.
            "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV",
            "eos1qpzry9x8",
            // TON's raw form, and what no known format matches.
            "0:83dfd552e63729b472fcbcc8c45ebcc6691702558b68ec7527e1ba403a0f31a8",
            "TXYZabc123",
        ] {
            assert_eq!(checksum_mismatch(address), None, "{address}");
        }
    }
}
