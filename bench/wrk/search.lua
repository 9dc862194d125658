-- wrk script: search queries of TERMS words drawn from the seed catalog's title words (fixed seed:
-- every run gets the same sequence). Arguments: PREFIX TERMS MODE [SORT [RATE]], MODE = cold (each
-- request the next of every combination of TERMS distinct words, shuffled, so none repeats until
-- all were asked: 80 one-word, 3,160 two-word, 82,160 three-word queries; the caller drops the
-- result keys between runs) or cached (the same query every time); SORT = a sort or "any" (each
-- cold request a random one); RATE = requests per second per connection (paced; none: flat out).
-- Run from the repository root.
dofile("bench/wrk/report.lua")
local words = {"amazing", "quiet", "epic", "tiny", "golden", "hidden", "wild", "lazy", "brave", "curious",
  "ancient", "electric", "frozen", "sunny", "midnight", "rapid", "gentle", "secret", "lost", "perfect",
  "crazy", "simple", "ultimate", "daily", "cozy", "stormy", "urban", "retro", "cosmic", "honest", "spicy",
  "rainy", "neon", "silent", "massive", "early", "last", "first", "best", "cafe", "guitar", "mountain",
  "kitten", "robot", "recipe", "journey", "forest", "city", "ocean", "puzzle", "garden", "engine",
  "dragon", "sunset", "market", "river", "castle", "rocket", "piano", "island", "volcano", "library",
  "harbor", "desert", "bicycle", "telescope", "bakery", "workshop", "festival", "train", "lighthouse",
  "canyon", "reef", "meadow", "studio", "stadium", "kitchen", "glacier", "jungle", "senor"}
local sorts = {"relevance", "newest", "views", "rating", "duration"}
local prefix, terms, cold, sort
local queries, next_query = {}, 0
-- Every combination of n distinct words, from the word at index `from` on.
local function combinations(n, from, picked, out)
  if n == 0 then
    out[#out + 1] = table.concat(picked, "+")
    return
  end
  for i = from, #words - n + 1 do
    picked[#picked + 1] = words[i]
    combinations(n - 1, i + 1, picked, out)
    picked[#picked] = nil
  end
end
init = function(args)
  prefix = args[1]
  terms = tonumber(args[2])
  cold = args[3] == "cold"
  sort = args[4] or "any"
  local rate = tonumber(args[5] or "")
  if rate then
    -- Each connection waits 1/RATE s after every answer (a paced load; see run.sh).
    delay = function()
      return 1000 / rate
    end
  end
  math.randomseed(42)
  if cold then
    -- Each combination once, in a shuffled order: no query repeats within a run.
    combinations(terms, 1, {}, queries)
    for i = #queries, 2, -1 do
      local j = math.random(1, i)
      queries[i], queries[j] = queries[j], queries[i]
    end
  end
end
request = function()
  if not cold then
    local fixed = {"amazing", "guitar", "sunset"}
    return wrk.format("GET", prefix .. table.concat(fixed, "+", 1, terms))
  end
  next_query = next_query % #queries + 1
  local chosen = sort == "any" and sorts[math.random(1, #sorts)] or sort
  return wrk.format("GET", prefix .. queries[next_query] .. "&sort=" .. chosen)
end
