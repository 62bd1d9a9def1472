-- wrk counterpart of the bench's create-patient workload: POST Patient with a realistic, made-up
-- Patient (an MR-typed identifier under the bench's MRN system, official name with two given names,
-- home phone, gender, birth date, home address), as carapace-bench's SyntheticData writes them.
-- Every request carries a new MRN: 3 (a series the bench's own seeded and created records never use),
-- then a run tag, the thread number and a per-thread counter, so creates never collide with each
-- other, with the seeded data set or with an earlier run given another tag.
--
--   wrk -t2 -c32 -d60s --latency -s carapace-bench/wrk/create-patient.lua \
--       -H "Authorization: Bearer $TOKEN" https://localhost:8443/fhir -- [RUN_TAG]
--
-- RUN_TAG: up to four digits (default: the current time's seconds modulo 10,000).
-- The token comes in with -H, or from the environment variable WRK_BEARER_TOKEN (which stays out of
-- ps); without either no Authorization header is sent (a stock HAPI FHIR server needs none).
-- No response() callback on purpose: defining one makes wrk parse every response in Lua; a refused
-- create still counts, under "non-2xx/3xx" in the errors line.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local MRN_SYSTEM = "http://hospital.example.org/fhir/sid/mrn"
local FEMALE_GIVEN = { "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
  "Sarah", "Karen", "Lisa", "Nancy", "Margaret", "Sandra", "Ashley", "Emily", "Donna", "Michelle", "Laura",
  "Sofia", "Aisha", "Mei", "Priya", "Fatima", "Ana", "Chloé", "Ingrid", "Yuki" }
local MALE_GIVEN = { "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
  "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew", "Kevin", "Brian", "George",
  "Mateo", "Omar", "Wei", "Arjun", "Kwame", "José", "Lars", "Hiroshi", "Dmitri" }
local FAMILY = { "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
  "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Lee",
  "Perez", "Thompson", "White", "Harris", "Nguyen", "Patel", "Kim", "Chen", "Okafor", "Müller", "O'Brien",
  "Novak", "Kowalski", "Haddad" }
local STREETS = { "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd",
  "Lakeview Rd", "Hillside Ave", "Park Pl", "River Rd", "Sunset Blvd" }
local CITIES = { { "Springfield", "IL", "627" }, { "Portland", "OR", "972" }, { "Austin", "TX", "787" },
  { "Columbus", "OH", "432" }, { "Madison", "WI", "537" }, { "Raleigh", "NC", "276" },
  { "Denver", "CO", "802" }, { "Boston", "MA", "021" }, { "Sacramento", "CA", "958" },
  { "Albany", "NY", "122" } }

local run_tag
local counter = 0

local function pick(list)
  return list[math.random(#list)]
end

function init(args)
  run_tag = tonumber(args[1] or (os.time() % 10000)) or error("RUN_TAG must be a number")
  if run_tag < 0 or run_tag > 9999 then error("RUN_TAG must have at most four digits") end
  math.randomseed(os.time() * 100 + (thread_number or 0))
  -- Added to wrk.headers, which hold the -H headers: a headers argument to wrk.format would replace them.
  wrk.headers["Accept"] = "application/fhir+json"
  wrk.headers["Content-Type"] = "application/fhir+json; charset=UTF-8"
  local token = os.getenv("WRK_BEARER_TOKEN")
  if token and #token > 0 then wrk.headers["Authorization"] = "Bearer " .. token end
end

local function patient()
  counter = counter + 1
  local mrn = string.format("3%04d%02d%07d", run_tag, (thread_number or 0) % 100, counter)
  local female = math.random(2) == 1
  local given = female and FEMALE_GIVEN or MALE_GIVEN
  local city = pick(CITIES)
  -- Birth dates between 1930 and 2023; day 1-28 keeps every date valid without a calendar.
  local birth = string.format("%04d-%02d-%02d", 1930 + math.random(0, 93), math.random(12), math.random(28))
  -- The word lists hold no character JSON must escape but the apostrophe, which it need not.
  return '{"resourceType":"Patient","identifier":[{"use":"usual",'
    .. '"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},'
    .. '"system":"' .. MRN_SYSTEM .. '","value":"' .. mrn .. '"}],"active":true,'
    .. '"name":[{"use":"official","family":"' .. pick(FAMILY) .. '","given":["' .. pick(given) .. '","'
    .. pick(given) .. '"]}],'
    .. '"telecom":[{"system":"phone","value":"' .. string.format("555-%03d-%04d", math.random(200, 999),
      math.random(0, 9999)) .. '","use":"home"}],'
    .. '"gender":"' .. (female and "female" or "male") .. '","birthDate":"' .. birth .. '",'
    .. '"address":[{"use":"home","line":["' .. math.random(9899) .. " " .. pick(STREETS) .. '"],'
    .. '"city":"' .. city[1] .. '","state":"' .. city[2] .. '","postalCode":"' .. city[3]
    .. string.format("%02d", math.random(0, 99)) .. '","country":"US"}]}'
end

function request()
  return wrk.format("POST", wrk.path .. "/Patient", nil, patient())
end

function done(summary, latency, requests)
  io.write(string.format(
    "errors: non-2xx/3xx %d, connect %d, read %d, write %d, timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
  io.write(string.format("latency ms: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
  io.write(string.format("summary: requests %d, seconds %.3f\n", summary.requests, summary.duration / 1e6))
end
