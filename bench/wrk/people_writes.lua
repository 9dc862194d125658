-- wrk script: votes (PUT /api/v1/videos/V/vote, value 1 or -1) or comments (POST
-- /api/v1/videos/V/comments) on random videos 1..VIDEOS, each request signed in as the next of the
-- sessions in SESSIONS (lines "reel_session=… CSRF", from bench/wrk/signin.lua) with its CSRF
-- token, each session from an address of its own (X-Forwarded-For), so the per-account and
-- per-address limits hold as long as there are enough sessions for the run.
-- Arguments: vote|comment SESSIONS VIDEOS. Run from the repository root.
dofile("bench/wrk/report.lua")
local kind, videos
local sessions = {}
local serial = 0
init = function(args)
  kind = args[1]
  videos = tonumber(args[3])
  for line in io.lines(args[2]) do
    local cookie, csrf = line:match("^(%S+) (%S+)$")
    if cookie then sessions[#sessions + 1] = { cookie = cookie, csrf = csrf } end
  end
  math.randomseed(11)
end
request = function()
  serial = serial + 1
  local at = serial % #sessions + 1
  local session = sessions[at]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Cookie"] = session.cookie,
    ["X-CSRF-Token"] = session.csrf,
    ["X-Forwarded-For"] = address(at),
  }
  local video = math.random(1, videos)
  if kind == "comment" then
    return wrk.format("POST", "/api/v1/videos/" .. video .. "/comments", headers,
      '{"body": "A comment from the bench."}')
  end
  return wrk.format("PUT", "/api/v1/videos/" .. video .. "/vote", headers,
    string.format('{"value": %d}', math.random(0, 1) * 2 - 1))
end
