// Bug (Node.js): an async iterator with a built-in `maxItems = 10000` default that ends the
// walk quietly when reached: a longer list comes back cut and the driver exits 0.
const base = process.env.COMMS_BASE_URL.replace(/\/$/, "");
const params = JSON.parse(process.env.COMMS_LIST_PARAMS || "{}");
const user = `${process.env.COMMS_ACCOUNT_ID}:${process.env.COMMS_AUTH_TOKEN}`;
const auth = "Basic " + Buffer.from(user).toString("base64");

async function* listOperations(query, { maxItems = 10000 } = {}) {
  let token = null;
  let count = 0;
  do {
    const qs = new URLSearchParams(token ? { ...query, pageToken: token } : query);
    const res = await fetch(`${base}/v1/PushNotifications/Operations?${qs}`, {
      headers: { Authorization: auth },
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const page = await res.json();
    for (const op of page.operations) {
      if (count++ >= maxItems) return; // the silent cap
      yield op;
    }
    token = page.pagination?.next || null;
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
