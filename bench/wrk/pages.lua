-- wrk script: GET PREFIX..N..SUFFIX with N drawn from 1..MAX (fixed seed: every server gets the
-- same sequence). Arguments: PREFIX MAX [SUFFIX].
local prefix, max, suffix
init = function(args)
  prefix = args[1]
  max = tonumber(args[2])
  suffix = args[3] or ""
  math.randomseed(42)
end
request = function()
  return wrk.format("GET", prefix .. math.random(1, max) .. suffix)
end
-- wrk done() hook: one machine-readable line with requests/s and latency percentiles (ms).
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
                 summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50=%.2f p99=%.2f bytes_per_req=%.0f errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.bytes / math.max(summary.requests, 1), errors))
end
