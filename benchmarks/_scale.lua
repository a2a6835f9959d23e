-- wrk script of benchmarks/scale.py: the mixed workload of logged-in virtual users.
--
-- Arguments (after `--`): <data.lua> <upload body file> <mode>; mode "measure" uses the whole mix, "warmup" never
-- deletes (the delete pool is only spent once). data.lua (written by scale.py) defines
--   prefix    the vault's path prefix, e.g. "/api/v1"
--   boundary  the multipart boundary of the upload body
--   users     a list of {token = "...", read = {media ids...}, delete = {media ids...}}
-- Each request picks a virtual user at random and then, by weight: 40 % GET /media/{id} (one of its own media),
-- 40 % GET /media (its first page), 15 % POST /media/upload (256 KiB file), 5 % DELETE /media/{id} (each id of the
-- user's delete pool once; an exhausted pool sends a GET instead, counted as "delete_fallbacks").

counts = {get = 0, list = 0, upload = 0, delete = 0, delete_fallbacks = 0}
local users, prefix, boundary, body, mode

function init(args)
  dofile(args[1])
  users, prefix, boundary = USERS, PREFIX, BOUNDARY
  local f = assert(io.open(args[2], "rb"))
  body = f:read("*a")
  f:close()
  mode = args[3]
  math.randomseed(os.time())
end

local function get(user)
  counts.get = counts.get + 1
  local id = user.read[math.random(#user.read)]
  return wrk.format("GET", prefix .. "/media/" .. id, {Authorization = user.auth})
end

function request()
  local user = users[math.random(#users)]
  if not user.auth then
    user.auth = "Bearer " .. user.token
  end
  local r = math.random(100)
  if r <= 40 then
    return get(user)
  elseif r <= 80 then
    counts.list = counts.list + 1
    return wrk.format("GET", prefix .. "/media?per_page=20", {Authorization = user.auth})
  elseif r <= 95 then
    counts.upload = counts.upload + 1
    return wrk.format("POST", prefix .. "/media/upload", {
      Authorization = user.auth,
      ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
    }, body)
  end
  if mode ~= "measure" or #user.delete == 0 then
    counts.delete_fallbacks = counts.delete_fallbacks + 1
    return get(user)
  end
  counts.delete = counts.delete + 1
  return wrk.format("DELETE", prefix .. "/media/" .. table.remove(user.delete), {Authorization = user.auth})
end

statuses = {}

function response(status, headers, response_body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    local s = thread:get("statuses")
    local parts = {}
    for status, n in pairs(s) do
      table.insert(parts, string.format('"%d": %d', status, n))
    end
    io.write(string.format(
      'MIX {"get": %d, "list": %d, "upload": %d, "delete": %d, "delete_fallbacks": %d, "statuses": {%s}}\n',
      c.get, c.list, c.upload, c.delete, c.delete_fallbacks, table.concat(parts, ", ")))
  end
end
