//! The Lua scripts behind the atomic port methods, and how they are run.
//!
//! Generations travel and compare as decimal strings: Lua numbers are
//! doubles, which cannot tell 2^53 from 2^53 + 1.

use fred::clients::Pool;
use fred::error::Error;
use fred::interfaces::{ClientLike, LuaInterface};
use fred::types::{ClusterHash, CustomCommand, Value};

/// KEYS: guards. ARGV[1]: ttl in ms; ARGV[1 + i]: fresh generation of KEYS[i].
/// Sets each absent guard (a non-number counts as absent, so a corrupt guard
/// heals) and returns every guard's generation.
const INIT_GUARDS: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  if not current or not string.match(current, '^%d+$') then
    current = ARGV[i + 1]
    redis.call('SET', key, current, 'PX', ARGV[1])
  end
  out[i] = current
end
return out
";

/// KEYS[1]: entry; KEYS[2..n+1]: guards; KEYS[n+2], if present: the lease
/// of the fetch. ARGV[1]: value; ARGV[2]: ttl in ms; ARGV[3]: n;
/// ARGV[3 + i]: expected generation of guard i; ARGV[4 + n]: the lease's
/// token. Ends the lease if it still holds the token, stored or not; then
/// stores if every guard holds its expected generation, and makes each guard
/// live at least as long as the entry. Returns 1 when stored.
const STORE_IF_CURRENT: &str = r"
local n = tonumber(ARGV[3])
if #KEYS > n + 1 and redis.call('GET', KEYS[n + 2]) == ARGV[4 + n] then
  redis.call('DEL', KEYS[n + 2])
end
for i = 1, n do
  if redis.call('GET', KEYS[i + 1]) ~= ARGV[3 + i] then
    return 0
  end
end
local ttl = tonumber(ARGV[2])
for i = 1, n do
  local left = redis.call('PTTL', KEYS[i + 1])
  if left >= 0 and left < ttl then
    redis.call('PEXPIRE', KEYS[i + 1], ttl)
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// KEYS[1]: a lease; KEYS[2]: its entry; KEYS[3..]: the entry's guards.
/// ARGV[1]: the token of the fetch asking; ARGV[2]: ttl in ms. Takes the
/// lease if it is free and reads the entry and its guards, in one step:
/// `{taken (1 or 0), entry, guard...}`; GET of an absent key is Lua false,
/// which goes back as nil without ending the array.
const LEASE: &str = r"
local taken = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
local out = {taken, redis.call('GET', KEYS[2])}
for i = 3, #KEYS do
  out[i] = redis.call('GET', KEYS[i])
end
return out
";

/// KEYS[1]: a lease. ARGV[1]: the token of the fetch ending it. Deletes it
/// only while it holds that token (another fetch may hold it since).
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// KEYS[1]: a lease. ARGV[1]: the token of the fetch holding it; ARGV[2]:
/// ttl in ms. Extends it only while it holds that token; 1 when it did.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// KEYS[1..n]: guards, then keys to delete. ARGV[1]: n; ARGV[1 + i]: new
/// generation of KEYS[i]; ARGV[1 + n + i]: its ttl in ms.
const BUMP: &str = r"
local n = tonumber(ARGV[1])
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[n + i + 1])
end
for i = n + 1, #KEYS do
  redis.call('DEL', KEYS[i])
end
return n
";

/// A script and the SHA-1 the server gave it.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    lua: &'static str,
    sha: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub(crate) init_guards: Script,
    pub(crate) store_if_current: Script,
    pub(crate) bump: Script,
    pub(crate) release: Script,
    pub(crate) renew: Script,
    pub(crate) lease: Script,
}

impl Scripts {
    /// Loads every script once; the server answers with each SHA-1, so no
    /// hashing happens here.
    pub(crate) async fn load(client: &Pool) -> Result<Scripts, Error> {
        Ok(Scripts {
            init_guards: Script::load(client, INIT_GUARDS).await?,
            store_if_current: Script::load(client, STORE_IF_CURRENT).await?,
            bump: Script::load(client, BUMP).await?,
            release: Script::load(client, RELEASE).await?,
            renew: Script::load(client, RENEW).await?,
            lease: Script::load(client, LEASE).await?,
        })
    }
}

impl Script {
    async fn load(client: &Pool, lua: &'static str) -> Result<Script, Error> {
        let sha: String = client.script_load(lua).await?;
        Ok(Script { lua, sha })
    }

    /// EVALSHA; on NOSCRIPT (server restarted, SCRIPT FLUSH, or a cluster
    /// node that never saw SCRIPT LOAD) falls back to EVAL, which runs the
    /// script on the node owning the keys and caches it there again.
    ///
    /// Sent as custom commands because fred's `WithOptions` (which carries
    /// the timeout and fail-fast options) lacks the Lua interface.
    pub(crate) async fn run<C: ClientLike>(
        &self,
        client: &C,
        keys: Vec<String>,
        args: Vec<Value>,
    ) -> Result<Value, Error> {
        match call(client, "EVALSHA", self.sha.as_str(), &keys, &args).await {
            Err(error) if is_noscript(&error) => {
                tracing::info!(sha = %self.sha, "script missing from Redis; reloading it with EVAL");
                call(client, "EVAL", self.lua, &keys, &args).await
            }
            other => other,
        }
    }
}

/// `EVAL|EVALSHA script numkeys keys... args...`, routed by the first key's
/// slot (argument 2), which every key of one call shares.
async fn call<C: ClientLike>(
    client: &C,
    command: &'static str,
    script: &str,
    keys: &[String],
    args: &[Value],
) -> Result<Value, Error> {
    let mut all = Vec::with_capacity(2 + keys.len() + args.len());
    all.push(Value::from(script));
    all.push(Value::from(keys.len().to_string()));
    all.extend(keys.iter().map(|k| Value::from(k.as_str())));
    all.extend(args.iter().cloned());
    client.custom(CustomCommand::new_static(command, ClusterHash::Offset(2), false), all).await
}

fn is_noscript(error: &Error) -> bool {
    error.details().starts_with("NOSCRIPT")
}
