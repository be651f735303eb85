-- Builds the sandbox every script of a core runs in, as Redis 7.0 does:
-- scripts see an empty global table whose reads fall through to the real
-- globals and whose writes fail; reading an unknown global is an error; the
-- library tables are read-only proxies. Runs once per core, with the real
-- globals as its environment. Returns the script environment, its
-- metatable (whose __index is switched while a function library loads),
-- the load-time environment, and the runner that calls a script under
-- xpcall with the error handler.
local G, api, version, version_num = ...
local error, type, tostring, select, rawget, rawset, next, pairs, setmetatable, getmetatable, pcall, xpcall =
      error, type, tostring, select, rawget, rawset, next, pairs, setmetatable, getmetatable, pcall, xpcall
local sfind, ssub, sgsub = string.find, string.sub, string.gsub

local function nonexistent(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local function readonly()
  error("Attempt to modify a readonly table", 2)
end

local real, protected = {}, {}
local hidden = {}
local function protect(t)
  local p = setmetatable({}, {__index = t, __newindex = readonly, __metatable = hidden})
  real[p] = t
  protected[p] = true
  return p
end

local function errbuff(s)
  local code, msg
  if ssub(s, 1, 1) == '-' then
    local sp = sfind(s, ' ', 1, true)
    if sp then code, msg = ssub(s, 2, sp - 1), ssub(s, sp + 1)
    else code, msg = 'ERR', ssub(s, 2) end
  else
    code, msg = 'ERR', s
  end
  msg = sgsub(sgsub(msg, '^[\r\n]+', ''), '[\r\n]+$', '')
  return {err = code .. ' ' .. msg}
end

local redis = {}
redis.call = api.call
redis.pcall = api.pcall
redis.error_reply = function(...)
  local m = ...
  if select('#', ...) ~= 1 or type(m) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  if ssub(m, 1, 1) ~= '-' then m = '-' .. m end
  return errbuff(m)
end
redis.status_reply = function(...)
  local m = ...
  if select('#', ...) ~= 1 or type(m) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = m}
end
redis.sha1hex = api.sha1hex
redis.log = api.log
redis.setresp = api.setresp
redis.set_repl = api.set_repl
redis.acl_check_cmd = api.acl_check_cmd
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = version, version_num
G.redis = redis

-- redis.pcall-style errors reach a script's own pcall as their text.
local function pfix(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'table' then
    local m = rawget(e, 'err')
    local tm = type(m)
    if tm == 'string' or tm == 'number' then e = m end
  end
  return false, e
end
G.pcall = function(...) return pfix(pcall(...)) end
G.rawset = function(t, k, v)
  if protected[t] then error("Attempt to modify a readonly table", 0) end
  return rawset(t, k, v)
end
G.setmetatable = function(t, m)
  if protected[t] then error("Attempt to modify a readonly table", 0) end
  return setmetatable(t, m)
end
G.rawget = function(t, k) return rawget(real[t] or t, k) end
G.next = function(t, k) return next(real[t] or t, k) end
G.pairs = function(t) return pairs(real[t] or t) end

-- Coroutines get the instruction hook too, so a loop inside one can be
-- killed and lets the core serve its clients.
local co_create, co_resume, hook_thread = coroutine.create, coroutine.resume, api.hook_thread
coroutine.create = function(f)
  local co = co_create(f)
  hook_thread(co)
  return co
end
local function wrapped(ok, ...)
  if ok then return ... end
  error((...), 2)
end
coroutine.wrap = function(f)
  local co = coroutine.create(f)
  return function(...) return wrapped(co_resume(co, ...)) end
end

-- Precompiled chunks are a known sandbox escape: loading one fails (the
-- caller then calls nil, Redis's "attempt to call a nil value").
local loadstring, load, tconcat = loadstring, load, table.concat
local function binary(s) return type(s) == 'string' and ssub(s, 1, 1) == '\27' end
G.loadstring = function(s, name)
  if binary(s) then return nil, 'binary chunks are not allowed' end
  return loadstring(s, name)
end
G.load = function(f, name)
  if type(f) ~= 'function' then return load(f, name) end
  local parts = {}
  while true do
    local piece = f()
    if piece == nil or piece == '' then break end
    parts[#parts + 1] = piece
  end
  return G.loadstring(tconcat(parts), name)
end

for k, v in next, G do
  if type(v) == 'table' and k ~= '_G' then G[k] = protect(v) end
end
protected[G] = true
setmetatable(G, {__index = nonexistent, __newindex = readonly, __metatable = hidden})

local env_meta = {__index = G, __newindex = readonly, __metatable = hidden}
local env = setmetatable({}, env_meta)
protected[env] = true
real[env] = G
-- `_G` is the script's read-only view, so `_G.tostring = nil` fails as in
-- Redis instead of replacing the global for later scripts.
rawset(G, '_G', env)

-- What a library's code sees while FUNCTION LOAD runs it.
local load_redis = setmetatable({
  register_function = api.register_function,
  log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = version, REDIS_VERSION_NUM = version_num,
}, {__index = nonexistent, __newindex = readonly, __metatable = hidden})
protected[load_redis] = true
local load_env = setmetatable({redis = load_redis}, {__index = nonexistent, __newindex = readonly, __metatable = hidden})
protected[load_env] = true

local function run(f, h, a, b)
  return xpcall(function() return f(a, b) end, h)
end

return env, env_meta, load_env, run
