-- wrk script: sign-ins (POST /api/v1/session) of random bench users "benchu1".."benchuUSERS"
-- (password "bench password"), each from an address of its own (X-Forwarded-For: the server
-- trusts one proxy hop in bench/people.sh), so the per-address limit never answers. Each session
-- answered is appended to SESSIONS as "reel_session=… CSRF" for bench/wrk/people_writes.lua.
-- Arguments: USERS SESSIONS. Run from the repository root.
dofile("bench/wrk/report.lua")
local users, out
local serial = 0
init = function(args)
  users = tonumber(args[1])
  out = io.open(args[2], "a")
  math.randomseed(7)
end
request = function()
  serial = serial + 1
  local body = string.format('{"username": "benchu%d", "password": "bench password"}', math.random(1, users))
  return wrk.format("POST", "/api/v1/session", {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = address(serial),
  }, body)
end
response = function(status, headers, body)
  if status ~= 200 then return end
  local cookie = (headers["Set-Cookie"] or headers["set-cookie"] or ""):match("(reel_session=[^;]+)")
  local csrf = body:match('"csrf":"([^"]+)"')
  if cookie and csrf then
    out:write(cookie, " ", csrf, "\n")
    out:flush()
  end
end
