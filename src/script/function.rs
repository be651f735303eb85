//! Function libraries (`FUNCTION LOAD`), shared by every core: each
//! library's code and the functions it registered, with their flags and
//! descriptions. Each core's VM runs a library's code lazily, the first time
//! one of its functions is called there (`script::vm`), keyed by the
//! library's version so a replaced library is reloaded.
//!
//! Also the FUNCTION DUMP payload, Redis's format so payloads move between
//! lanner and Redis: per library the RDB opcode 245 and the code as an RDB
//! string, then the RDB version (10) and a CRC64 (Jones), little-endian.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use super::flags::Flags;
use crate::command::errors;

#[derive(Clone, Debug)]
pub struct FuncMeta {
    pub name: String,
    pub flags: Flags,
    pub description: Option<String>,
}

pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<FuncMeta>,
    /// Unique per load: a core whose copy has another version reloads it.
    pub version: u64,
    /// Per function (same order): seen touching more than the shard of
    /// its declared keys, so it runs holding every shard
    /// (`command::scripting`).
    pub spans: Vec<std::sync::atomic::AtomicBool>,
}

#[derive(Default)]
pub struct Libraries {
    libs: BTreeMap<String, Arc<Library>>,
    /// Function name, lowercased (Redis 7.0 looks functions up without
    /// regard to case) → library name.
    funcs: HashMap<String, String>,
}

#[derive(Default)]
pub struct Functions {
    state: RwLock<Libraries>,
    next_version: AtomicU64,
}

/// How FUNCTION RESTORE treats libraries that exist already.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Append,
    Replace,
    Flush,
}

impl Functions {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Libraries> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Libraries> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The library holding function `name`, and the function's metadata.
    pub fn find(&self, name: &str) -> Option<(Arc<Library>, FuncMeta)> {
        let st = self.read();
        let lib = st
            .libs
            .get(st.funcs.get(&name.to_ascii_lowercase())?)?
            .clone();
        let meta = lib
            .functions
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))?
            .clone();
        Some((lib, meta))
    }

    pub fn library(&self, name: &str) -> Option<Arc<Library>> {
        self.read().libs.get(name).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Library>> {
        self.read().libs.values().cloned().collect()
    }

    /// Bytes the libraries hold outside the Lua VMs (INFO
    /// `used_memory_functions`): code, names, descriptions and entries.
    pub fn memory(&self) -> usize {
        use std::mem::size_of;
        let st = self.read();
        let libs: usize = st
            .libs
            .iter()
            .map(|(name, lib)| {
                let funcs: usize = lib
                    .functions
                    .iter()
                    .map(|f| {
                        size_of::<FuncMeta>()
                            + f.name.len()
                            + f.description.as_ref().map_or(0, String::len)
                    })
                    .sum();
                name.len() + lib.name.len() + lib.code.len() + size_of::<Library>() + 16 + funcs
            })
            .sum();
        let funcs: usize = st
            .funcs
            .iter()
            .map(|(f, l)| f.len() + l.len() + size_of::<(String, String)>() + 1)
            .sum();
        libs + funcs
    }

    pub fn counts(&self) -> (usize, usize) {
        let st = self.read();
        (st.libs.len(), st.funcs.len())
    }

    pub fn new_library(&self, name: String, code: Bytes, functions: Vec<FuncMeta>) -> Library {
        Library {
            name,
            code,
            spans: functions.iter().map(|_| Default::default()).collect(),
            functions,
            version: self.next_version.fetch_add(1, Ordering::Relaxed) + 1,
        }
    }

    /// Adds libraries at once, or none: Redis's errors for a library that
    /// exists (unless `replace`) or a function another library has.
    pub fn add(&self, libs: Vec<Library>, policy: Policy) -> Result<(), String> {
        let mut st = self.write();
        let mut next = if policy == Policy::Flush {
            Libraries::default()
        } else {
            Libraries {
                libs: st.libs.clone(),
                funcs: st.funcs.clone(),
            }
        };
        for lib in libs {
            if let Some(old) = next.libs.get(&lib.name).cloned() {
                if policy != Policy::Replace {
                    return Err(errors::library_exists(&lib.name));
                }
                for f in &old.functions {
                    next.funcs.remove(&f.name.to_ascii_lowercase());
                }
                next.libs.remove(&lib.name);
            }
            for f in &lib.functions {
                if next.funcs.contains_key(&f.name.to_ascii_lowercase()) {
                    return Err(errors::function_exists(&f.name));
                }
            }
            for f in &lib.functions {
                next.funcs
                    .insert(f.name.to_ascii_lowercase(), lib.name.clone());
            }
            next.libs.insert(lib.name.clone(), Arc::new(lib));
        }
        *st = next;
        Ok(())
    }

    pub fn delete(&self, name: &str) -> bool {
        let mut st = self.write();
        match st.libs.remove(name) {
            Some(lib) => {
                for f in &lib.functions {
                    st.funcs.remove(&f.name.to_ascii_lowercase());
                }
                true
            }
            None => false,
        }
    }

    pub fn flush(&self) {
        *self.write() = Libraries::default();
    }
}

const RDB_OPCODE_FUNCTION2: u8 = 245;
const RDB_VERSION: u16 = 10;

/// FUNCTION DUMP's payload for `libs`.
pub fn dump(libs: &[Arc<Library>]) -> Bytes {
    let mut out = Vec::new();
    for lib in libs {
        out.push(RDB_OPCODE_FUNCTION2);
        rdb_len(&mut out, lib.code.len() as u64);
        out.extend_from_slice(&lib.code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    Bytes::from(out)
}

/// The library codes of a FUNCTION DUMP payload.
pub fn undump(payload: &[u8]) -> Result<Vec<Bytes>, String> {
    if payload.len() < 10 {
        return Err(errors::DUMP_PAYLOAD.into());
    }
    let (body, footer) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    let crc = u64::from_le_bytes(
        footer
            .try_into()
            .map_err(|_| errors::DUMP_PAYLOAD.to_string())?,
    );
    if version > RDB_VERSION || crc64(0, body) != crc {
        return Err(errors::DUMP_PAYLOAD.into());
    }
    let mut data = &body[..body.len() - 2];
    let mut codes = Vec::new();
    while !data.is_empty() {
        if data[0] != RDB_OPCODE_FUNCTION2 {
            return Err(errors::DUMP_NOT_FUNCTION.into());
        }
        data = &data[1..];
        let code = rdb_string(&mut data).ok_or(errors::DUMP_NOT_VALID)?;
        codes.push(Bytes::from(code));
    }
    Ok(codes)
}

fn rdb_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Reads an RDB length; Err(kind) for the special encodings (0xC0 | kind).
fn read_len(d: &mut &[u8]) -> Option<Result<u64, u8>> {
    let (&first, rest) = d.split_first()?;
    *d = rest;
    Some(match first >> 6 {
        0 => Ok((first & 0x3f) as u64),
        1 => {
            let (&b, rest) = d.split_first()?;
            *d = rest;
            Ok(((first as u64 & 0x3f) << 8) | b as u64)
        }
        2 if first == 0x80 => {
            let v = u32::from_be_bytes(d.get(..4)?.try_into().ok()?);
            *d = &d[4..];
            Ok(v as u64)
        }
        2 if first == 0x81 => {
            let v = u64::from_be_bytes(d.get(..8)?.try_into().ok()?);
            *d = &d[8..];
            Ok(v)
        }
        2 => return None,
        _ => Err(first & 0x3f),
    })
}

/// An RDB string: raw, integer-encoded or LZF-compressed.
fn rdb_string(d: &mut &[u8]) -> Option<Vec<u8>> {
    match read_len(d)? {
        Ok(n) => {
            let n = usize::try_from(n).ok()?;
            let s = d.get(..n)?.to_vec();
            *d = &d[n..];
            Some(s)
        }
        Err(kind @ 0..=2) => {
            let width = 1usize << kind;
            let b = d.get(..width)?;
            let v = match kind {
                0 => b[0] as i8 as i64,
                1 => i16::from_le_bytes([b[0], b[1]]) as i64,
                _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            };
            *d = &d[width..];
            Some(v.to_string().into_bytes())
        }
        Err(3) => {
            let clen = usize::try_from(read_len(d)?.ok()?).ok()?;
            let len = usize::try_from(read_len(d)?.ok()?).ok()?;
            let src = d.get(..clen)?;
            *d = &d[clen..];
            lzf_decompress(src, len)
        }
        Err(_) => None,
    }
}

fn lzf_decompress(src: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < src.len() {
        let ctrl = src[i] as usize;
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            out.extend_from_slice(src.get(i..i + n)?);
            i += n;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *src.get(i)? as usize;
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *src.get(i)? as usize + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..n + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == len).then_some(out)
}

/// CRC-64/Jones (reflected, polynomial 0xad93d23594c935a9), Redis's `crc64`.
/// Check value: crc64(0, "123456789") = 0xe9c6d914c4b8d9ca.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5; // 0xad93d23594c935a9 bit-reversed
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_jones() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn dump_matches_redis_bytes() {
        // FUNCTION DUMP of this library on Redis 7.0.15.
        let code = "#!lua name=lib1\nredis.register_function('f', function() return 1 end)";
        let f = Functions::default();
        let lib = Arc::new(f.new_library("lib1".into(), Bytes::from(code), vec![]));
        let d = dump(&[lib]);
        let mut expect = vec![0xf5, 0x40, 0x45];
        expect.extend_from_slice(code.as_bytes());
        expect.extend_from_slice(&[0x0a, 0x00, 0x8a, 0x9a, 0xd3, 0x5a, 0x5e, 0x2d, 0x9f, 0x0c]);
        assert_eq!(&d[..], &expect[..]);
        assert_eq!(undump(&d).unwrap(), vec![Bytes::from(code)]);
        assert_eq!(&dump(&[])[..], b"\n\x00]\x9b\\@\x0f\x7f\xa2\xda");
        assert!(undump(b"abc").is_err());
    }

    #[test]
    fn restores_a_compressed_redis_dump() {
        // FUNCTION DUMP of a 298-byte library on Redis 7.0.15 (LZF-compressed).
        let payload = b"\xf5\xc3\x40\xb6\x41\x1d\x1f\x23\x21\x6c\x75\x61\x20\x6e\x61\x6d\x65\x3d\x6d\x79\x6c\x69\x62\x0a\x72\x65\x64\x69\x73\x2e\x72\x65\x67\x69\x73\x74\x65\x72\x5f\x0e\x66\x75\x6e\x63\x74\x69\x6f\x6e\x28\x27\x66\x31\x27\x2c\x20\xe0\x00\x0e\x18\x6b\x65\x79\x73\x2c\x20\x61\x72\x67\x73\x29\x20\x72\x65\x74\x75\x72\x6e\x20\x78\x20\x65\x6e\x64\x29\xe0\x0f\x40\x00\x7b\xc0\x3a\x00\x5f\x60\x6c\x02\x27\x66\x32\x20\x4e\x08\x63\x61\x6c\x6c\x62\x61\x63\x6b\x3d\xc0\x1c\xe0\x0b\x57\x80\x91\x40\x2a\x04\x28\x27\x67\x65\x74\x20\x36\x40\x7c\x03\x5b\x31\x5d\x29\x40\x70\x20\x93\x12\x6c\x61\x67\x73\x3d\x7b\x27\x6e\x6f\x2d\x77\x72\x69\x74\x65\x73\x27\x7d\x7d\xe0\x0f\x85\x20\xc6\x00\x33\x20\x40\xe0\x0c\x6e\x0b\x65\x72\x72\x6f\x72\x28\x27\x62\x6f\x6f\x6d\x27\x20\x0d\x20\xcb\x0a\x00\xca\x28\xdf\xbf\x37\xc6\x14\x4a";
        let code = "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return x end)\nredis.register_function{function_name='f2', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}}\nredis.register_function('f3', function(keys, args) error('boom') end)";
        assert_eq!(undump(payload).unwrap(), vec![Bytes::from(code)]);
    }

    #[test]
    fn lzf_expands_back_references() {
        // literal "ab", then a back reference of length 4 at distance 2.
        let src = [1, b'a', b'b', 0x40, 1];
        assert_eq!(lzf_decompress(&src, 6).unwrap(), b"ababab");
    }
}
