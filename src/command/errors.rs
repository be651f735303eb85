//! Every error text a command can answer, exactly as Redis 7 writes it.
//!
//! Handlers, dispatch, the script engine and the server take their error
//! replies from here; nothing else in `src/` writes one
//! (`tests/error_texts.rs` fails on an error literal anywhere else). The
//! texts of the layers below `command` (protocol errors, CONFIG SET,
//! PFSELFTEST, an unreachable shard) live in `crate::errors`, which those
//! layers may import, and are re-exported here.
//!
//! A fixed text is a `&str` constant; a text with a parameter is a function
//! returning the `Reply`, or the `String` where the caller passes text on
//! (Lua error tables, `Result<_, String>` of the script engine). Where two
//! commands answer the same words, they share one constant.

pub use crate::errors::*;
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

pub const OUT_OF_RANGE: &str = "ERR value is out of range";
pub const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
/// SRANDMEMBER, ZRANDMEMBER and HRANDFIELD with a count Redis cannot negate.
pub const RANDOM_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// SINTERCARD, ZINTERCARD, EVAL and FCALL with more keys than arguments.
pub const NUMKEYS_ARGS: &str = "ERR Number of keys can't be greater than number of args";
pub const NUMKEYS_NEGATIVE: &str = "ERR Number of keys can't be negative";
/// SINTERCARD and ZINTERCARD.
pub const INTERCARD_LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const NO_SHUTDOWN: &str = "ERR No shutdown in progress.";
pub const MONITOR_DENY_BLOCKING: &str = "ERR MONITOR isn't allowed for DENY BLOCKING client";
pub const SWAPDB_FIRST: &str = "ERR invalid first DB index";
pub const SWAPDB_SECOND: &str = "ERR invalid second DB index";
pub const HELLO_PROTO: &str = "ERR Protocol version is not an integer or out of range";
pub const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
pub const SLOWLOG_COUNT: &str = "ERR count should be greater than or equal to -1";

/// HELLO with an option it does not know (as typed).
pub fn hello_option(opt: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR Syntax error in HELLO option '{}'",
        String::from_utf8_lossy(opt)
    ))
}

/// EXPIRE and friends with an option they do not know (as typed).
pub fn expire_option(opt: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR Unsupported option {}",
        String::from_utf8_lossy(opt)
    ))
}

/// LATENCY GRAPH of an event with no samples (as typed).
pub fn latency_no_samples(event: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR No samples available for event '{}'",
        String::from_utf8_lossy(event)
    ))
}

/// Any command but the Pub/Sub ones in RESP2 subscribed mode, under the
/// row's full name (`pubsub|numpat`).
pub fn subscribed_context(name: &str) -> Reply {
    Reply::error(format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

// OBJECT (object.c).
pub const OBJECT_LRU_POLICY: &str = "ERR An LRU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
pub const OBJECT_NOT_LFU_POLICY: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Lists (t_list.c).
pub const INDEX_RANGE: &str = "ERR index out of range";
pub const LPOS_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
pub const LPOS_COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
pub const LPOS_MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

// Hashes (t_hash.c).
pub const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
pub const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
pub const HASH_NAN_OR_INF: &str = "ERR value is NaN or Infinity";

// Sorted sets (t_zset.c).
pub const ZADD_XX_NX: &str = "ERR XX and NX options at the same time are not compatible";
pub const ZADD_GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
pub const ZADD_INCR_PAIR: &str = "ERR INCR option supports a single increment-element pair";
pub const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
pub const MINMAX_FLOAT: &str = "ERR min or max is not a float";
pub const MINMAX_LEX: &str = "ERR min or max not valid string range item";
pub const ZRANGE_LIMIT: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
pub const ZRANGE_WITHSCORES_LEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
pub const WEIGHT_FLOAT: &str = "ERR weight value is not a float";

/// ZUNION, ZINTER, ZDIFF (and their STORE forms) with numkeys below 1;
/// `name` lower-cased.
pub fn at_least_one_key(name: &str) -> Reply {
    Reply::error(format!(
        "ERR at least 1 input key is needed for '{name}' command"
    ))
}

// SORT (sort.c).
pub const SORT_NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

// Scripts and functions (Redis 7.0's eval.c, function_lua.c, functions.c,
// script.c, script_lua.c).
pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";
pub const RO_WITH_WRITE: &str = "ERR Can not execute a script with write flag using *_ro command.";
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// What a killed script raises inside Lua; its caller gets it as an ERR
/// (`script_killed`), before " script: …".
pub const KILLED: &str = "Script killed by user with SCRIPT KILL...";
/// The reply a command of an escalated block gets (the run is void).
pub const ESCALATED: &str = "ERR the script needs every shard";
pub const FCALL_NUMKEYS: &str = "ERR Bad number of keys provided";
pub const FUNCTION_NOT_FOUND: &str = "ERR Function not found";
pub const FUNCTION_ARGS: &str = "ERR cannot prepare the function's arguments";
pub const SCRIPT_FLUSH_MODE: &str = "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
pub const SCRIPT_DEBUG_UNSUPPORTED: &str =
    "ERR SCRIPT DEBUG YES and SYNC are not supported: lanner has no Lua debugger";
pub const SCRIPT_DEBUG_MODE: &str = "ERR Use SCRIPT DEBUG YES/SYNC/NO";
pub const FUNCTION_FLUSH_MODE: &str = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
pub const LIBRARY_NOT_FOUND: &str = "ERR Library not found";
pub const LIBRARY_NAME_ARGUMENT: &str = "ERR library name argument was not given";
pub const RESTORE_POLICY: &str =
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
pub const LIBRARY_NAME_CHARS: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
pub const DUMP_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
pub const DUMP_NOT_FUNCTION: &str = "ERR given type is not a function";
pub const DUMP_NOT_VALID: &str = "ERR payload is not a valid function dump";
pub const SHEBANG_INVALID: &str = "ERR Invalid script shebang";
pub const SHEBANG_ENGINE_INVALID: &str = "ERR Invalid engine in script shebang";
pub const LIBRARY_META_MISSING: &str = "ERR Missing library metadata";
pub const LIBRARY_META_INVALID: &str = "ERR Invalid library metadata";
pub const LIBRARY_META_NAME_TWICE: &str =
    "ERR Invalid metadata value, name argument was given multiple times";
pub const LIBRARY_NAME_NOT_GIVEN: &str = "ERR Library name was not given";
pub const NO_FUNCTIONS_REGISTERED: &str = "ERR No functions registered";
pub const SCRIPT_STACK: &str = "ERR cannot allocate a stack for the script";
pub const LUA_STACK_LIMIT: &str = "ERR reached lua stack limit";
/// An error value a script raised that carries no message.
pub const LUA_UNKNOWN_ERROR: &str = "ERR unknown error";

// The `redis` library inside scripts (script_lua.c).
pub const LUA_NO_ARGUMENTS: &str =
    "ERR Please specify at least one argument for this redis lib call";
pub const LUA_ARGUMENT_TYPE: &str =
    "ERR Lua redis lib command arguments must be strings or integers";
pub const LUA_UNKNOWN_COMMAND: &str = "ERR Unknown Redis command called from script";
pub const LUA_WRONG_ARITY: &str = "ERR Wrong number of args calling Redis command from script";
pub const LUA_NOSCRIPT_COMMAND: &str = "ERR This Redis command is not allowed from script";
pub const LUA_READ_ONLY: &str = "ERR Write commands are not allowed from read-only scripts.";
pub const LUA_CALL_UNAVAILABLE: &str = "ERR redis.call is not available here";
pub const LUA_SHA1HEX_ARITY: &str = "ERR wrong number of arguments";
pub const LUA_LOG_ARITY: &str = "ERR redis.log() requires two arguments or more.";
pub const LUA_LOG_LEVEL: &str = "ERR First argument must be a number (log level).";
pub const LUA_DEBUG_LEVEL: &str = "ERR Invalid debug level.";
pub const LUA_SETRESP_ARITY: &str = "ERR redis.setresp() requires one argument.";
pub const LUA_RESP_VERSION: &str = "ERR RESP version must be 2 or 3.";
pub const LUA_SET_REPL_ARITY: &str = "ERR redis.set_repl() requires two arguments.";
pub const LUA_REPL_FLAGS: &str =
    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.";
pub const LUA_ACL_CHECK_CMD: &str = "ERR Invalid command passed to redis.acl_check_cmd()";

// redis.register_function inside FUNCTION LOAD (function_lua.c).
pub const REGISTER_OUTSIDE_LOAD: &str =
    "ERR redis.register_function can only be called on FUNCTION LOAD command";
pub const REGISTER_SINGLE_ARGUMENT: &str =
    "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).";
pub const REGISTER_NAME_TYPE: &str =
    "ERR function_name argument given to redis.register_function must be a string";
pub const REGISTER_DESCRIPTION_TYPE: &str =
    "ERR description argument given to redis.register_function must be a string";
pub const REGISTER_CALLBACK_TYPE: &str =
    "ERR callback argument given to redis.register_function must be a function";
pub const REGISTER_UNKNOWN_FLAG: &str = "ERR unknown flag given";
pub const REGISTER_FLAGS_TYPE: &str =
    "ERR flags argument to redis.register_function must be a table representing function flags";
pub const REGISTER_UNKNOWN_ARGUMENT: &str = "ERR unknown argument given to redis.register_function";
pub const REGISTER_NO_NAME: &str = "ERR redis.register_function must get a function name argument";
pub const REGISTER_NO_CALLBACK: &str = "ERR redis.register_function must get a callback argument";
pub const REGISTER_FIRST_ARGUMENT: &str =
    "ERR first argument to redis.register_function must be a string";
pub const REGISTER_SECOND_ARGUMENT: &str =
    "ERR second argument to redis.register_function must be a function";
pub const REGISTER_ARITY: &str = "ERR wrong number of arguments to redis.register_function";
pub const REGISTER_FUNCTION_EXISTS: &str = "ERR Function already exists in the library";

/// The reply a command called by a killed script gets.
pub fn script_killed() -> Reply {
    Reply::error(generic(KILLED))
}

/// FUNCTION LOAD with an option other than REPLACE (as typed).
pub fn function_load_option(opt: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR Unknown option given: {}",
        String::from_utf8_lossy(opt)
    ))
}

/// FUNCTION LIST with an argument it does not know (as typed).
pub fn function_list_argument(arg: &[u8]) -> Reply {
    Reply::error(format!(
        "ERR Unknown argument {}",
        String::from_utf8_lossy(arg)
    ))
}

pub fn engine_not_found(engine: &str) -> String {
    format!("ERR Engine '{engine}' not found")
}

pub fn library_exists(name: &str) -> String {
    format!("ERR Library '{name}' already exists")
}

pub fn function_exists(name: &str) -> String {
    format!("ERR Function {name} already exists")
}

pub fn shebang_engine(engine: &[u8]) -> String {
    format!(
        "ERR Unexpected engine in script shebang: {}",
        String::from_utf8_lossy(engine)
    )
}

pub fn shebang_option(opt: &[u8]) -> String {
    format!(
        "ERR Unknown lua shebang option: {}",
        String::from_utf8_lossy(opt)
    )
}

pub fn shebang_flag(flag: &[u8]) -> String {
    format!(
        "ERR Unexpected flag in script shebang: {}",
        String::from_utf8_lossy(flag)
    )
}

pub fn library_meta_value(part: &[u8]) -> String {
    format!(
        "ERR Invalid metadata value given: {}",
        String::from_utf8_lossy(part)
    )
}

/// EVAL's body that Lua cannot compile; `msg` is Lua's message.
pub fn compile_script(msg: &str) -> String {
    format!("ERR Error compiling script (new function): {msg}")
}

/// FUNCTION LOAD's code that Lua cannot compile.
pub fn compile_function(msg: &str) -> String {
    format!("ERR Error compiling function: {msg}")
}

/// FUNCTION LOAD's code that failed while it ran.
pub fn register_functions(msg: &str) -> String {
    format!("ERR Error registering functions: {msg}")
}

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

/// An ERR reply around a message from elsewhere (a Lua error, a setting's
/// complaint), as Redis's `addReplyErrorFormat` writes one.
pub fn generic(msg: impl std::fmt::Display) -> String {
    format!("ERR {msg}")
}

/// A state the code rules out, answered instead of a panic; `what` names it.
pub fn internal(what: &str) -> Reply {
    Reply::error(format!("ERR internal: {what}"))
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
    Reply::error(arity_text(name))
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
