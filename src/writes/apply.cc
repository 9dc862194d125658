#include "writes/apply.h"

#include <algorithm>

#include "projection/account_keys.h"
#include "projection/codec.h"
#include "projection/keys.h"
#include "redis/script.h"
#include "writes/delta_codec.h"

namespace reel::writes {
namespace {

// KEYS[1] = the object's watermark bucket; ARGV[1] = its field, ARGV[2] = seq,
// ARGV[3] = "force" or "next", then the flattened commands (argc, args…)…. Two are the script's
// own (projection/codec.h): REEL.DELMEMBERS and REEL.IFEXISTS (which skips the next n commands
// when its key is missing).
const redis::Script& script() {
  static const redis::Script apply(std::string(R"lua(
local function run(first, last)
  if ARGV[first] == ')lua") + std::string(projection::codec::delete_members_op) +
                                   R"lua(' then
    for _, member in ipairs(redis.call('SMEMBERS', ARGV[first + 1])) do
      redis.call('UNLINK', ARGV[first + 2] .. member)
    end
    redis.call('UNLINK', ARGV[first + 1])
  else
    redis.call(unpack(ARGV, first, last))
  end
end
local seq = tonumber(ARGV[2])
local watermark = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if watermark >= seq then return {'already', watermark} end
if ARGV[3] ~= 'force' and watermark ~= seq - 1 then return {'gap', watermark} end
local i = 4
local skip = 0
while i <= #ARGV do
  local argc = tonumber(ARGV[i])
  if skip > 0 then
    skip = skip - 1
  elseif ARGV[i + 1] == ')lua" + std::string(projection::codec::if_exists_op) +
                                   R"lua(' then
    if redis.call('EXISTS', ARGV[i + 2]) == 0 then skip = tonumber(ARGV[i + 3]) end
  else
    run(i + 1, i + argc)
  end
  i = i + argc + 1
end
redis.call('HSET', KEYS[1], ARGV[1], seq)
return {'applied', seq}
)lua");
  return apply;
}

}  // namespace

redis::Command apply_command(const Delta& delta, bool force, bool eval) {
  const projection::keys::HashField watermark = projection::keys::write_seq(delta.object);
  std::vector<std::string> args{watermark.field, std::to_string(delta.seq), force ? "force" : "next"};
  std::vector<std::string> flat = flatten(delta.commands);
  args.insert(args.end(), std::make_move_iterator(flat.begin()), std::make_move_iterator(flat.end()));
  const std::vector<std::string> keys{watermark.key};
  return eval ? script().eval_command(keys, args) : script().evalsha_command(keys, args);
}

ApplyReply parse_apply_reply(const redis::Reply& reply) {
  if (reply.is_error()) return {Landing::failed, 0, std::string(reply.str())};
  if (!reply.is_array() || reply.elements().size() != 2) return {Landing::failed, 0, "an unexpected reply"};
  const std::string_view outcome = reply.elements()[0].str();
  const int64_t watermark = reply.elements()[1].integer();
  if (outcome == "applied") return {Landing::applied, watermark, {}};
  if (outcome == "already") return {Landing::already, watermark, {}};
  if (outcome == "gap") return {Landing::gap, watermark, {}};
  return {Landing::failed, watermark, "an unexpected reply"};
}

std::vector<redis::Command> apply_commands(const std::vector<Delta>& deltas, bool force, bool eval) {
  std::vector<redis::Command> commands;
  commands.reserve(deltas.size());
  for (const Delta& delta : deltas) commands.push_back(apply_command(delta, force, eval));
  return commands;
}

bool needs_eval(const std::vector<redis::Reply>& replies) {
  for (const redis::Reply& reply : replies) {
    if (redis::Script::is_noscript(reply)) return true;
  }
  return false;
}

bool all_landed(const std::vector<redis::Reply>& replies) {
  for (const redis::Reply& reply : replies) {
    const Landing landing = parse_apply_reply(reply).landing;
    if (landing != Landing::applied && landing != Landing::already) return false;
  }
  return true;
}

bool on_sessions_node(std::string_view object) {
  return object.substr(0, object.find(':')) == projection::account_keys::sessions_object_class;
}

std::vector<std::string> objects_of(const std::vector<Delta>& deltas) {
  std::vector<std::string> objects;
  for (const Delta& delta : deltas) objects.push_back(delta.object);
  std::sort(objects.begin(), objects.end());
  objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
  return objects;
}

}  // namespace reel::writes
