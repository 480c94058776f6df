//! The Lua scripts behind the atomic port methods, and how they are run.
//!
//! Generations travel and compare as decimal strings: Lua numbers are
//! doubles, which cannot tell 2^53 from 2^53 + 1.

use fred::clients::{Pool, WithOptions};
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

/// KEYS[1]: entry; KEYS[2..]: guards. ARGV[1]: value; ARGV[2]: ttl in ms;
/// ARGV[1 + i]: expected generation of KEYS[i]. Returns 1 when stored.
const STORE_IF_CURRENT: &str = r"
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[i + 1] then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// KEYS[1..n]: guards, then keys to delete. ARGV[1]: ttl in ms; ARGV[2]: n;
/// ARGV[2 + i]: new generation of KEYS[i].
const BUMP: &str = r"
local n = tonumber(ARGV[2])
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[i + 2], 'PX', ARGV[1])
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
}

impl Scripts {
    /// Loads every script once; the server answers with each SHA-1, so no
    /// hashing happens here.
    pub(crate) async fn load(client: &Pool) -> Result<Scripts, Error> {
        Ok(Scripts {
            init_guards: Script::load(client, INIT_GUARDS).await?,
            store_if_current: Script::load(client, STORE_IF_CURRENT).await?,
            bump: Script::load(client, BUMP).await?,
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
    pub(crate) async fn run(
        &self,
        client: &WithOptions<Pool>,
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
async fn call(
    client: &WithOptions<Pool>,
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
