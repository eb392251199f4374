-- wrk script: POST one saved GetUserAvailability body (100 mailboxes) again and again.
-- Environment: GUA_BODY (file with the SOAP envelope), GUA_AUTH (the Authorization value).
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["Authorization"] = os.getenv("GUA_AUTH")
local f = assert(io.open(os.getenv("GUA_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()

local bad = 0
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests=%d non200=%d duration_s=%.2f\n",
    summary.requests, summary.errors.status, summary.duration / 1e6))
end
