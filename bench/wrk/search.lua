-- wrk script: search queries of TERMS words drawn from the seed catalog's title words (fixed seed:
-- every run gets the same sequence). Arguments: PREFIX TERMS MODE, MODE = cold (each request a
-- random query and sort: with 80 words, two and three terms rarely repeat within a minute; one
-- term repeats after ~400 requests, so its "cold" figure mixes in cached results) or cached (the
-- same query every time). Run from the repository root.
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
local prefix, terms, cold
init = function(args)
  prefix = args[1]
  terms = tonumber(args[2])
  cold = args[3] == "cold"
  math.randomseed(42)
end
request = function()
  if not cold then
    local fixed = {"amazing", "guitar", "sunset"}
    return wrk.format("GET", prefix .. table.concat(fixed, "+", 1, terms))
  end
  local q = {}
  for i = 1, terms do q[i] = words[math.random(1, #words)] end
  return wrk.format("GET", prefix .. table.concat(q, "+") .. "&sort=" .. sorts[math.random(1, #sorts)])
end
