//! Every error text a command can answer, exactly as Redis 7 writes it.

use crate::resp::Reply;

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const DECR_OVERFLOW: &str = "ERR decrement would overflow";
pub const NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const DB_RANGE: &str = "ERR DB index is out of range";
pub const INVALID_DB: &str = "ERR invalid DB index";
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_RANGE: &str = "ERR offset is out of range";
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub const EXPIRE_FLAGS: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
pub const GT_LT: &str = "ERR GT and LT options at the same time are not compatible";
pub const LCS_LEN_IDX: &str = "ERR If you want both the length and indexes, please just use IDX.";
pub const LCS_TYPE: &str = "ERR The specified keys must contain string values";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const NUMKEYS: &str = "ERR numkeys should be greater than 0";
pub const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
pub const SCAN_CURSOR: &str = "ERR invalid cursor";
pub const CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
pub const NO_SUCH_CLIENT: &str = "ERR No such client";

// Transactions (multi.c, server.c).
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const NO_MULTI: &str = "ERR Command not allowed inside a transaction";
pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub const WATCH_IN_MULTI: &str = "ERR WATCH inside MULTI is not allowed";
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";

/// A refused EXEC (Redis's `execCommandAbort`): the transaction is
/// discarded, naming why.
pub fn exec_abort(reason: &str) -> Reply {
    Reply::error(format!(
        "EXECABORT Transaction discarded because of: {}",
        reason.strip_prefix('-').unwrap_or(reason)
    ))
}

// CLIENT (Redis 7.0's networking.c and tracking.c).
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const PAUSE_MODE: &str = "ERR CLIENT PAUSE mode must be WRITE or ALL";
pub const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
pub const CLIENT_ID_POSITIVE: &str = "ERR client-id should be greater than 0";
pub const MAXAGE_NOT_INTEGER: &str = "ERR maxage is not an integer or out of range";
pub const UNBLOCK_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/// What a client blocked in a command ended by CLIENT UNBLOCK ERROR gets.
pub const UNBLOCKED_BY_CLIENT: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
pub const TRACKING_ONE_REDIRECT: &str = "ERR A client can only redirect to a single other client";
pub const TRACKING_NO_REDIRECT_CLIENT: &str =
    "ERR The client ID you want redirect to does not exist";
pub const TRACKING_PREFIX_NEEDS_BCAST: &str = "ERR PREFIX option requires BCAST mode to be enabled";
pub const TRACKING_BCAST_SWITCH: &str = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
pub const TRACKING_OPT_BCAST: &str = "ERR OPTIN and OPTOUT are not compatible with BCAST";
pub const TRACKING_OPTIN_OPTOUT: &str = "ERR You can't specify both OPTIN mode and OPTOUT mode";
pub const TRACKING_OPT_SWITCH: &str = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
pub const CACHING_NOT_TRACKING: &str = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
pub const CACHING_YES_OPTIN: &str =
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
pub const CACHING_NO_OPTOUT: &str =
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";

/// CLIENT TRACKING ON BCAST with prefixes that would match the same key:
/// `prefix` against one the client follows (`existing`) or another one
/// given.
pub fn tracking_prefix_overlap(prefix: &[u8], other: &[u8], existing: bool) -> Reply {
    Reply::error(format!(
        "ERR Prefix '{}' overlaps with {} prefix '{}'. Prefixes for a single client must not overlap.",
        c_str(prefix),
        if existing { "an existing" } else { "another provided" },
        c_str(other)
    ))
}

/// CLIENT LIST / KILL with a TYPE Redis does not know.
pub fn unknown_client_type(t: &[u8]) -> Reply {
    Reply::error(format!("ERR Unknown client type '{}'", c_str(t)))
}

/// CLIENT KILL USER with a user other than "default".
pub fn no_such_user(u: &[u8]) -> Reply {
    Reply::error(format!("ERR No such user '{}'", c_str(u)))
}

/// CLIENT SETINFO with an attribute it does not know.
pub fn unrecognized_option(opt: &[u8]) -> Reply {
    Reply::error(format!("ERR Unrecognized option '{}'", c_str(opt)))
}

/// CLIENT SETINFO with a value holding spaces or special characters.
pub fn client_attr_chars(field: &str) -> Reply {
    Reply::error(format!(
        "ERR {field} cannot contain spaces, newlines or special characters."
    ))
}

// COMMAND GETKEYS / GETKEYSANDFLAGS.
pub const GETKEYS_INVALID_COMMAND: &str = "ERR Invalid command specified";
pub const GETKEYS_NO_KEYS: &str = "ERR The command has no key arguments";
pub const GETKEYS_ARITY: &str = "ERR Invalid number of arguments specified for command";
pub const GETKEYS_INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";

// Bitmaps (Redis 7.0's `bitops.c`).
pub const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
pub const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
pub const BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
pub const BITOP_NOT: &str = "ERR BITOP NOT must be called with a single source key.";
pub const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
pub const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
pub const BITFIELD_RO: &str = "ERR BITFIELD_RO only supports the GET subcommand";

// HyperLogLog (`hyperloglog.c`; Redis writes these two with their own code).
pub const HLL_WRONGTYPE: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
pub const HLL_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
pub const PFDEBUG_NO_KEY: &str = "ERR The specified key does not exist";
pub const PFDEBUG_NOT_SPARSE: &str = "ERR HLL encoding is not sparse";

// Geo (`geo.c`).
pub const GEO_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
pub const GEO_RADIUS: &str = "ERR need numeric radius";
pub const GEO_RADIUS_NEGATIVE: &str = "ERR radius cannot be negative";
pub const GEO_WIDTH: &str = "ERR need numeric width";
pub const GEO_HEIGHT: &str = "ERR need numeric height";
pub const GEO_BOX_NEGATIVE: &str = "ERR height or width cannot be negative";
pub const GEO_MEMBER: &str = "ERR could not decode requested zset member";
pub const GEO_COUNT: &str = "ERR COUNT must be > 0";
pub const GEO_ANY: &str = "ERR the ANY argument requires COUNT argument";
pub const GEORADIUS_STORE: &str =
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options";
pub const GEOSEARCHSTORE_STORE: &str =
    "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options";
// Streams (Redis 7.0's t_stream.c).
pub const INVALID_STREAM_ID: &str = "ERR Invalid stream ID specified as stream command argument";
pub const XADD_ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
pub const XADD_ID_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
pub const XADD_ID_TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
pub const XADD_TOO_LARGE: &str = "ERR Elements are too large to be stored";
pub const TRIM_BOTH_STRATEGIES: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
pub const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
pub const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
pub const LIMIT_WITHOUT_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
pub const XTRIM_WITHOUT_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
pub const LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
pub const INVALID_START_ID: &str = "ERR invalid start ID for the interval";
pub const INVALID_END_ID: &str = "ERR invalid end ID for the interval";
pub const XREAD_UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
pub const XREAD_GROUP_OPTION: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
pub const XREAD_NOACK_OPTION: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
pub const XREADGROUP_MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
pub const XREADGROUP_DOLLAR: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
pub const XREAD_GREATER: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
pub const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
pub const ENTRIESREAD_RANGE: &str = "ERR value for ENTRIESREAD must be positive or -1";
pub const XGROUP_NO_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
pub const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
pub const XSETID_ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
pub const XSETID_BELOW_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
pub const XSETID_BELOW_TOP: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
pub const XSETID_ENTRIES_ADDED_BELOW_LENGTH: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
pub const XCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XCLAIM";
pub const XCLAIM_IDLE: &str = "ERR Invalid IDLE option argument for XCLAIM";
pub const XCLAIM_TIME: &str = "ERR Invalid TIME option argument for XCLAIM";
pub const XCLAIM_RETRYCOUNT: &str = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
pub const XAUTOCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
pub const XAUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";
/// A blocked XREADGROUP whose stream key was deleted or replaced.
pub const XREADGROUP_KEY_GONE: &str = "UNBLOCKED the stream key no longer exists";
/// A blocked XREADGROUP whose group was destroyed.
pub const XREADGROUP_GROUP_GONE: &str =
    "NOGROUP the consumer group this client was blocked on no longer exists";

/// XPENDING, XCLAIM, XAUTOCLAIM on a missing key or group.
pub fn no_key_or_group(key: &[u8], group: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        c_str(key),
        c_str(group)
    ))
}

/// XREADGROUP on a missing key or group.
pub fn no_key_or_group_readgroup(key: &[u8], group: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        c_str(key),
        c_str(group)
    ))
}

/// XGROUP and XINFO CONSUMERS naming a group the stream lacks.
pub fn no_group_for_key(group: &[u8], key: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        c_str(group),
        c_str(key)
    ))
}

/// XREAD or XREADGROUP with BLOCK from a script; `name` as the script
/// wrote it.
pub fn block_in_script(name: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR {} command is not allowed with BLOCK option from scripts",
        c_str(name)
    ))
}

pub fn xclaim_unknown_option(opt: &[u8]) -> Reply {
    Reply::error(format!("ERR Unrecognized XCLAIM option '{}'", c_str(opt)))
}

/// Redis's `addReplySubcommandSyntaxError`: `sub` as typed, the container
/// upper-cased.
pub fn subcommand_syntax(sub: &[u8], container: impl AsRef<[u8]>) -> Reply {
    Reply::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        truncated(sub),
        String::from_utf8_lossy(container.as_ref()).to_ascii_uppercase()
    ))
}

/// An argument as Redis's `%s` prints it: up to its first NUL byte.
fn c_str(b: &[u8]) -> std::borrow::Cow<'_, str> {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end])
}

pub fn err(text: &'static str) -> Reply {
    Reply::error(text)
}

/// A command that may grow memory, refused over `maxmemory`.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

pub fn oom() -> Reply {
    Reply::error(OOM)
}

pub fn wrongtype() -> Reply {
    Reply::error(WRONGTYPE)
}

pub fn syntax() -> Reply {
    Reply::error(SYNTAX)
}

pub fn not_integer() -> Reply {
    Reply::error(NOT_INTEGER)
}

/// The arity error of the command `args` names, under its row's full name
/// (`config|set`), for checks a handler makes beyond the row's arity.
pub fn wrong_arity(args: &[bytes::Bytes]) -> Reply {
    match super::table::resolve(args) {
        super::table::Resolved::Row(spec) => arity(spec.name),
        _ => arity(&String::from_utf8_lossy(&args[0]).to_ascii_lowercase()),
    }
}

pub fn arity(name: &str) -> Reply {
    Reply::error(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

pub fn invalid_expire(name: &str) -> Reply {
    Reply::error(format!("ERR invalid expire time in '{name}' command"))
}

/// PFDEBUG with a subcommand it does not know (the name as typed).
pub fn pfdebug_unknown(sub: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR Unknown PFDEBUG subcommand '{}'",
        String::from_utf8_lossy(sub)
    ))
}

/// A longitude or latitude out of range, printed as C's `%f`.
pub fn geo_pair(lon: f64, lat: f64) -> Reply {
    Reply::error(format!(
        "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
    ))
}

/// GEOSEARCH without a centre; `name` is the command as typed.
pub fn geo_from(name: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
        String::from_utf8_lossy(name)
    ))
}

/// GEOSEARCH without a shape; `name` is the command as typed.
pub fn geo_by(name: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
        String::from_utf8_lossy(name)
    ))
}

/// Redis's `commandCheckExistence` for a container: `sub` and the
/// container's name as typed, the container upper-cased.
pub fn unknown_subcommand(sub: &[u8], container: impl AsRef<[u8]>) -> Reply {
    Reply::error(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        truncated(sub),
        String::from_utf8_lossy(container.as_ref()).to_ascii_uppercase()
    ))
}

/// Redis 7.0's "unknown command 'x', with args beginning with: 'a' 'b' ".
/// The name and each argument are printed as C strings (cut at a NUL byte),
/// the name at 128 bytes; arguments are added while the list is under 128
/// bytes, each cut to the room left. The client's bytes are echoed as they
/// came, UTF-8 or not (CR and LF become spaces when the reply is written).
pub fn unknown_command(args: &[bytes::Bytes]) -> Reply {
    fn c_str(b: &[u8], max: usize) -> &[u8] {
        let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
        &b[..end.min(max)]
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(c_str(&args[0], 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    let list_start = msg.len();
    for a in &args[1..] {
        let shown = msg.len() - list_start;
        if shown >= 128 {
            break;
        }
        msg.push(b'\'');
        msg.extend_from_slice(c_str(a, 128 - shown));
        msg.extend_from_slice(b"' ");
    }
    match String::from_utf8(msg) {
        Ok(text) => Reply::error(text),
        Err(e) => Reply::ErrorBytes(bytes::Bytes::from(e.into_bytes())),
    }
}

fn truncated(b: &[u8]) -> String {
    let b = &b[..b.len().min(128)];
    String::from_utf8_lossy(b).into_owned()
}
