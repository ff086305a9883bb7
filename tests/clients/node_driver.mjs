// A check-client driver in Node.js (18+): fetch and URLSearchParams, no dependencies.
// Prints every id, one per line, once the whole list is in; exits 1 on an API error.
const base = process.env.COMMS_BASE_URL.replace(/\/$/, "");
const params = JSON.parse(process.env.COMMS_LIST_PARAMS || "{}");
const user = `${process.env.COMMS_ACCOUNT_ID}:${process.env.COMMS_AUTH_TOKEN}`;
const auth = "Basic " + Buffer.from(user).toString("base64");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfterMs(value) {
  if (/^\d+$/.test(value ?? "")) return Number(value) * 1000; // delay-seconds
  const when = Date.parse(value ?? ""); // or an HTTP-date
  return Number.isNaN(when) ? 1000 : Math.max(0, when - Date.now());
}

async function getPage(query) {
  // URLSearchParams percent-encodes the token's + / = (and a date's +05:30)
  const url = `${base}/v1/PushNotifications/Operations?${new URLSearchParams(query)}`;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { headers: { Authorization: auth } });
    if (res.status === 200) return res.json();
    if ((res.status === 429 || res.status === 503) && attempt < 5) {
      await sleep(retryAfterMs(res.headers.get("retry-after")) + 10);
      continue; // the same request again
    }
    throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}

async function* listOperations(query) {
  let token = null;
  do {
    const page = await getPage(token ? { ...query, pageToken: token } : query);
    yield* page.operations;
    token = page.pagination?.next || null; // absent, null and "" all end the list
  } while (token);
}

const query = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
try {
  const ids = [];
  for await (const op of listOperations(query)) ids.push(op.id);
  process.stdout.write(ids.map((id) => `${id}\n`).join(""));
} catch (err) {
  console.error(`driver: ${err.message}`);
  process.exit(1);
}
