//! Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP
//! BITFIELD BITFIELD_RO, with BITOP's spanning (multi-shard) form.
//!
//! Keyed handlers run on the key's owning shard over its `Store`; the bit
//! arithmetic lives in `keyspace::bits`. Strings may be stored as integers or
//! small inline strings (`Str`): reads see their bytes as GET does, and a
//! write turns the value into a plain byte string ("raw", as Redis's
//! `dbUnshareStringValue`), so GET always answers the bytes the bits make.
//!
//! Argument checks and key lookups happen in Redis 7.0's order, so each
//! malformed command gets Redis's error. Offsets are limited to
//! `proto-max-bulk-len` bytes (512 MB by default). Events: "setbit" for
//! SETBIT and BITFIELD when a bit changed or the string grew, "set" or
//! "del" for BITOP's destination.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors::{self, err};
use super::gather;
use super::place::Split;
use crate::command::session::Session;
use crate::keyspace::bits::{self, BitOp, Overflow};
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::value::{Str, Value};
use crate::resp::Reply;
use crate::services::Shard;

/// The bytes of a string being changed, as an owned vector (free for a
/// "raw" string, a copy of an integer's or inline string's text).
pub(crate) fn take_bytes(s: &mut Str) -> Vec<u8> {
    match std::mem::replace(s, Str::Int(0)) {
        Str::Raw(b) => b.into_vec(),
        other => other.to_vec(),
    }
}

/// Runs `f` on the bytes of the string at `key` for a read; None when the
/// key is absent, Err(WRONGTYPE) for another type.
pub(crate) fn read_bytes<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, Reply> {
    match st.read(db, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            Ok(Some(f(s.bytes(&mut scratch))))
        }
        Some(_) => Err(errors::wrongtype()),
    }
}

/// A copy of the string at `key` (None when absent), for multi-key reads.
pub(crate) fn copy_bytes(st: &mut Store, db: usize, key: &[u8]) -> Result<Option<Vec<u8>>, Reply> {
    read_bytes(st, db, key, <[u8]>::to_vec)
}

/// Redis's `lookupStringForBitCommand`: runs `f` on the string at `key`,
/// created or zero-padded so that bit `maxbit` exists. `f` also learns
/// whether the string was created or grew. Err(WRONGTYPE) for another type.
fn with_bits<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    maxbit: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, Reply> {
    let need = (maxbit >> 3) as usize + 1;
    match st.lookup(db, key).map(|e| matches!(e.value, Value::Str(_))) {
        Some(false) => Err(errors::wrongtype()),
        None => {
            let mut v = vec![0u8; need];
            let r = f(&mut v, true);
            st.insert(db, key, Value::Str(Str::Raw(v.into_boxed_slice())), 0);
            Ok(r)
        }
        Some(true) => Ok(st
            .modify(db, key, |e| {
                let Value::Str(s) = &mut e.value else {
                    unreachable!("checked above")
                };
                let mut v = take_bytes(s);
                let grown = v.len() < need;
                if grown {
                    v.resize(need, 0);
                }
                let r = f(&mut v, grown);
                *s = Str::Raw(v.into_boxed_slice());
                r
            })
            .expect("key is live")),
    }
}

/// Redis's `getBitOffsetFromArgument`: a bit offset below the string size
/// limit; with `hash_bits`, `#n` means n fields of that width.
fn bit_offset(st: &Store, arg: &[u8], hash_bits: Option<u32>) -> Result<u64, Reply> {
    let bad = || err(errors::BIT_OFFSET);
    let (digits, mul) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let n = args::int(digits).map_err(|_| bad())?.wrapping_mul(mul);
    if n < 0 || (n as u64 >> 3) >= st.proto_max_bulk_len {
        return Err(bad());
    }
    Ok(n as u64)
}

/// SETBIT key offset value
pub fn setbit(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let offset = tri!(bit_offset(st, &a[2], None));
    let on = match args::int(&a[3]) {
        Ok(v @ (0 | 1)) => v as u8,
        _ => return err(errors::BIT_VALUE),
    };
    let (old, changed) = tri!(with_bits(st, db, &a[1], offset, |b, grown| {
        let byte = &mut b[(offset >> 3) as usize];
        let shift = 7 - (offset & 7);
        let old = (*byte >> shift) & 1;
        *byte = (*byte & !(1 << shift)) | (on << shift);
        (old, grown || old != on)
    }));
    if changed {
        st.notify(notify::STRING, "setbit", db, &a[1]);
    }
    Reply::Int(old as i64)
}

/// GETBIT key offset
pub fn getbit(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let offset = tri!(bit_offset(st, &a[2], None));
    let bit = tri!(read_bytes(st, db, &a[1], |b| {
        b.get((offset >> 3) as usize)
            .map_or(0, |byte| (byte >> (7 - (offset & 7))) & 1)
    }));
    Reply::Int(bit.unwrap_or(0) as i64)
}

/// Parses BITCOUNT's and BITPOS's trailing BIT|BYTE.
fn bit_unit(arg: &[u8]) -> Result<bool, Reply> {
    if eq(arg, "bit") {
        Ok(true)
    } else if eq(arg, "byte") {
        Ok(false)
    } else {
        Err(errors::syntax())
    }
}

/// BITCOUNT key [start end [BYTE | BIT]]
pub fn bitcount(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    // Redis looks the key up (and answers 0 for a missing one) before it
    // parses the range.
    let counted = read_bytes(st, db, &a[1], |b| -> Result<u64, Reply> {
        match a.len() {
            2 => Ok(bits::popcount(b)),
            4 | 5 => {
                let start = args::int(&a[2])?;
                let end = args::int(&a[3])?;
                if start < 0 && end < 0 && start > end {
                    return Ok(0);
                }
                let isbit = match a.get(4) {
                    Some(u) => bit_unit(u)?,
                    None => false,
                };
                Ok(bits::count(b, start, end, isbit))
            }
            _ => Err(errors::syntax()),
        }
    });
    match tri!(counted) {
        None => Reply::Int(0),
        Some(n) => Reply::Int(tri!(n) as i64),
    }
}

/// BITPOS key bit [start [end [BYTE | BIT]]]
pub fn bitpos(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let bit = match tri!(args::int(&a[2])) {
        0 => false,
        1 => true,
        _ => return err(errors::BITPOS_BIT),
    };
    let found = read_bytes(st, db, &a[1], |b| -> Result<i64, Reply> {
        let len = b.len() as i64;
        let (start, end, isbit, end_given) = match a.len() {
            3 => (0, len - 1, false, false),
            4..=6 => {
                let start = args::int(&a[3])?;
                let isbit = match a.get(5) {
                    Some(u) => bit_unit(u)?,
                    None => false,
                };
                match a.get(4) {
                    Some(e) => (start, args::int(e)?, isbit, true),
                    None if isbit => (start, (len << 3) + 7, true, false),
                    None => (start, len - 1, false, false),
                }
            }
            _ => return Err(errors::syntax()),
        };
        Ok(bits::position(b, bit, start, end, isbit, end_given))
    });
    match tri!(found) {
        // A missing key is an endless run of clear bits.
        None => Reply::Int(if bit { -1 } else { 0 }),
        Some(pos) => Reply::Int(tri!(pos)),
    }
}

/// BITOP's operation and its NOT arity rule.
fn parse_bitop(a: &[Bytes]) -> Result<BitOp, Reply> {
    let op = if eq(&a[1], "and") {
        BitOp::And
    } else if eq(&a[1], "or") {
        BitOp::Or
    } else if eq(&a[1], "xor") {
        BitOp::Xor
    } else if eq(&a[1], "not") {
        BitOp::Not
    } else {
        return Err(errors::syntax());
    };
    if op == BitOp::Not && a.len() != 4 {
        return Err(err(errors::BITOP_NOT));
    }
    Ok(op)
}

/// Writes BITOP's result to `dst` ("set"), or deletes `dst` ("del") when
/// the result is empty; answers its length.
fn store_bitop(st: &mut Store, db: usize, dst: &[u8], result: Vec<u8>) -> Reply {
    let len = result.len() as i64;
    if result.is_empty() {
        if st.delete(db, dst) {
            st.notify(notify::GENERIC, "del", db, dst);
        }
    } else {
        st.insert(db, dst, Value::Str(Str::Raw(result.into_boxed_slice())), 0);
        st.notify(notify::STRING, "set", db, dst);
    }
    Reply::Int(len)
}

/// The result of `op` over the sources, read in key order (the first
/// wrong type among them is the error).
fn compute_bitop(
    op: BitOp,
    sources: Vec<Result<Option<Vec<u8>>, Reply>>,
) -> Result<Vec<u8>, Reply> {
    let sources: Vec<Vec<u8>> = sources
        .into_iter()
        .map(|s| s.map(Option::unwrap_or_default))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&[u8]> = sources.iter().map(Vec::as_slice).collect();
    Ok(bits::bitop(op, &refs))
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...] with every key on this shard.
pub fn bitop(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let op = tri!(parse_bitop(a));
    let sources = a[3..].iter().map(|k| copy_bytes(st, db, k)).collect();
    let result = tri!(compute_bitop(op, sources));
    store_bitop(st, db, &a[2], result)
}

/// BITOP with keys on several shards: the sources are read on their shards
/// while the destination's shard is held, the result is computed here and
/// written in a second step that ends the operation.
pub fn bitop_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let op = tri!(parse_bitop(&a));
        let db = s.db;
        let dst = split.key_at(sh, &a, 2);
        let keys = split.keys_from(&a, 3);
        let (txn, sources) =
            gather::read_keys(sh, db, s.parent, &keys, Some(&dst), copy_bytes).await;
        let Some(txn) = txn else {
            return errors::internal("a store without a hold");
        };
        match compute_bitop(op, sources) {
            Ok(result) => {
                gather::write_and_end(txn, db, dst, move |st, db, dst| {
                    store_bitop(st, db, dst, result)
                })
                .await
            }
            Err(e) => {
                txn.release();
                e
            }
        }
    })
}

/// One BITFIELD operation.
#[derive(Clone, Copy, Debug)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// Redis's `getBitfieldTypeFromArgument`: i1..i64 or u1..u63.
fn field_type(arg: &[u8]) -> Result<(bool, u32), Reply> {
    let bad = || err(errors::BITFIELD_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(bad()),
    };
    let bits = args::int(&arg[1..]).map_err(|_| bad())?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(bad());
    }
    Ok((signed, bits as u32))
}

/// Parses BITFIELD's operations in order, each with the OVERFLOW mode in
/// force where it appears.
fn parse_fields(st: &Store, a: &[Bytes]) -> Result<Vec<Field>, Reply> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let sub = &a[j];
        let op = if eq(sub, "get") && left >= 2 {
            FieldOp::Get
        } else if eq(sub, "set") && left >= 3 {
            FieldOp::Set(0)
        } else if eq(sub, "incrby") && left >= 3 {
            FieldOp::IncrBy(0)
        } else if eq(sub, "overflow") && left >= 1 {
            let kind = &a[j + 1];
            overflow = if eq(kind, "wrap") {
                Overflow::Wrap
            } else if eq(kind, "sat") {
                Overflow::Sat
            } else if eq(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(err(errors::BITFIELD_OVERFLOW));
            };
            j += 2;
            continue;
        } else {
            return Err(errors::syntax());
        };
        let (signed, bits) = field_type(&a[j + 1])?;
        let offset = bit_offset(st, &a[j + 2], Some(bits))?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(args::int(&a[j + 3])?),
            FieldOp::IncrBy(_) => FieldOp::IncrBy(args::int(&a[j + 3])?),
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if matches!(op, FieldOp::Get) { 3 } else { 4 };
    }
    Ok(fields)
}

fn get_field(b: &[u8], f: &Field) -> i64 {
    if f.signed {
        bits::get_signed(b, f.offset, f.bits)
    } else {
        bits::get_unsigned(b, f.offset, f.bits) as i64
    }
}

/// Runs a SET or INCRBY on the bytes: the reply (nil when OVERFLOW FAIL
/// refuses it) and whether the stored value changed.
fn write_field(b: &mut [u8], f: &Field) -> (Reply, bool) {
    let (value, incr) = match f.op {
        FieldOp::Set(v) => (v, None),
        FieldOp::IncrBy(by) => (0, Some(by)),
        FieldOp::Get => unreachable!("GET does not write"),
    };
    let (old, new, retval, overflowed) = if f.signed {
        let old = bits::get_signed(b, f.offset, f.bits);
        match incr {
            Some(by) => {
                let wrapped = bits::signed_overflow(old, by, f.bits, f.overflow);
                let new = wrapped.unwrap_or_else(|| old.wrapping_add(by));
                (old as u64, new as u64, new, wrapped.is_some())
            }
            None => {
                let wrapped = bits::signed_overflow(value, 0, f.bits, f.overflow);
                (
                    old as u64,
                    wrapped.unwrap_or(value) as u64,
                    old,
                    wrapped.is_some(),
                )
            }
        }
    } else {
        let old = bits::get_unsigned(b, f.offset, f.bits);
        match incr {
            Some(by) => {
                let wrapped = bits::unsigned_overflow(old, by, f.bits, f.overflow);
                let new = wrapped.unwrap_or_else(|| old.wrapping_add(by as u64));
                (old, new, new as i64, wrapped.is_some())
            }
            None => {
                let v = value as u64;
                let wrapped = bits::unsigned_overflow(v, 0, f.bits, f.overflow);
                (old, wrapped.unwrap_or(v), old as i64, wrapped.is_some())
            }
        }
    };
    if overflowed && f.overflow == Overflow::Fail {
        return (Reply::Nil, false);
    }
    bits::set_bits(b, f.offset, f.bits, new);
    (Reply::Int(retval), old != new)
}

/// Shared body of BITFIELD and BITFIELD_RO (Redis's `bitfieldGeneric`).
fn bitfield_generic(st: &mut Store, db: usize, a: &[Bytes], readonly_cmd: bool) -> Reply {
    let fields = tri!(parse_fields(st, a));
    let key = &a[1];
    let writes = fields.iter().filter(|f| !matches!(f.op, FieldOp::Get));
    let Some(highest) = writes.map(|f| f.offset + f.bits as u64 - 1).max() else {
        let got = tri!(read_bytes(st, db, key, |b| {
            fields.iter().map(|f| Reply::Int(get_field(b, f))).collect()
        }));
        return Reply::Array(got.unwrap_or_else(|| fields.iter().map(|_| Reply::Int(0)).collect()));
    };
    if readonly_cmd {
        return err(errors::BITFIELD_RO);
    }
    let (replies, changes) = tri!(with_bits(st, db, key, highest, |b, grown| {
        let mut changes = 0;
        let replies = fields
            .iter()
            .map(|f| match f.op {
                FieldOp::Get => Reply::Int(get_field(b, f)),
                _ => {
                    let (reply, changed) = write_field(b, f);
                    if !matches!(reply, Reply::Nil) && (grown || changed) {
                        changes += 1;
                    }
                    reply
                }
            })
            .collect::<Vec<_>>();
        (replies, changes)
    }));
    if changes > 0 {
        st.notify(notify::STRING, "setbit", db, key);
    }
    Reply::Array(replies)
}

/// BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL]
/// SET type offset value | INCRBY type offset increment ...]
pub fn bitfield(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    bitfield_generic(st, db, a, false)
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    bitfield_generic(st, db, a, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::test_args as args;

    #[test]
    fn bitmap_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("setbit b 7 1", &["setbit b"]),
                ("setbit b 7 1", &[]),
                ("setbit b 0 0", &[]),
                ("setbit b 100 0", &["setbit b"]),
                ("bitfield b get u8 0", &[]),
                ("bitfield b set u8 0 2", &["setbit b"]),
                ("bitfield b set u8 0 2", &[]),
                ("bitfield b overflow fail incrby u2 0 9", &[]),
                ("bitop or d b", &["set d"]),
                ("bitop and d nokey", &["del d"]),
                ("bitop and d nokey", &[]),
            ],
        );
    }

    #[test]
    fn bits_of_integer_and_inline_strings_read_as_get_does() {
        let mut st = Store::new(1);
        st.insert(0, b"n", Value::Str(Str::from_bytes(b"12")), 0);
        // "12" is 0x31 0x32: bits 2, 3, 7, 10, 11, 14 are set.
        assert_eq!(
            bitcount(&mut st, 0, &args(&["bitcount", "n"])),
            Reply::Int(6)
        );
        assert_eq!(
            getbit(&mut st, 0, &args(&["getbit", "n", "7"])),
            Reply::Int(1)
        );
        assert_eq!(
            setbit(&mut st, 0, &args(&["setbit", "n", "6", "1"])),
            Reply::Int(0)
        );
        let e = st.read(0, b"n").unwrap();
        assert_eq!(e.value, Value::Str(Str::Raw(Box::from(&b"32"[..]))));
    }

    #[test]
    fn offsets_respect_the_bulk_limit() {
        let mut st = Store::new(1);
        st.proto_max_bulk_len = 4;
        let e = setbit(&mut st, 0, &args(&["setbit", "k", "32", "1"]));
        assert_eq!(e, err(errors::BIT_OFFSET));
        assert_eq!(
            setbit(&mut st, 0, &args(&["setbit", "k", "31", "1"])),
            Reply::Int(0)
        );
        let e = bitfield(&mut st, 0, &args(&["bitfield", "k", "get", "u8", "#4"]));
        assert_eq!(e, err(errors::BIT_OFFSET));
    }
}
