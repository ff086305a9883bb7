// Bug (Node.js): adds ±20 % random jitter to every retry delay, Retry-After included (as a real
// SDK runtime did): about half of its waits end before Retry-After has elapsed.
const base = process.env.COMMS_BASE_URL.replace(/\/$/, "");
const params = JSON.parse(process.env.COMMS_LIST_PARAMS || "{}");
const user = `${process.env.COMMS_ACCOUNT_ID}:${process.env.COMMS_AUTH_TOKEN}`;
const auth = "Basic " + Buffer.from(user).toString("base64");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (ms) => ms * (1 + (Math.random() * 2 - 1) * 0.2);

function retryAfterMs(value) {
  if (/^\d+$/.test(value ?? "")) return Number(value) * 1000;
  const when = Date.parse(value ?? "");
  return Number.isNaN(when) ? 1000 : Math.max(0, when - Date.now());
}

async function getPage(query) {
  const url = `${base}/v1/PushNotifications/Operations?${new URLSearchParams(query)}`;
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { headers: { Authorization: auth } });
    if (res.status === 200) return res.json();
    if ((res.status === 429 || res.status === 503) && attempt < 5) {
      await sleep(jitter(retryAfterMs(res.headers.get("retry-after"))));
      continue;
    }
    throw new Error(`HTTP ${res.status}`);
  }
}

const query = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
try {
  const ids = [];
  let token = null;
  do {
    const page = await getPage(token ? { ...query, pageToken: token } : query);
    for (const op of page.operations) ids.push(op.id);
    token = page.pagination?.next || null;
  } while (token);
  process.stdout.write(ids.map((id) => `${id}\n`).join(""));
} catch (err) {
  console.error(`driver: ${err.message}`);
  process.exit(1);
}
