-- wrk script: GET PREFIX..N..SUFFIX with N drawn from 1..MAX (fixed seed: every server gets the
-- same sequence). Arguments: PREFIX MAX [SUFFIX [SEED]]. Run from the repository root.
dofile("bench/wrk/report.lua")
local prefix, max, suffix
init = function(args)
  prefix = args[1]
  max = tonumber(args[2])
  suffix = args[3] or ""
  math.randomseed(tonumber(args[4]) or 42)
end
request = function()
  return wrk.format("GET", prefix .. math.random(1, max) .. suffix)
end
