-- GET with the bearer token from WRK_TOKEN (if any).
local token = os.getenv("WRK_TOKEN") or ""
function init(args)
  if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end
