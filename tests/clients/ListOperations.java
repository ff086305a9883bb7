import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A check-client driver in Java 11+, no dependencies. A real driver calls your SDK's paginator
 * here; this standalone one pulls the two fields it needs (ids, next) out with regexes.
 */
public class ListOperations {
    static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");
    static final Pattern NEXT = Pattern.compile("\"next\"\\s*:\\s*\"([^\"]*)\"");
    static final Pattern PARAM = Pattern.compile("\"(\\w+)\"\\s*:\\s*(?:\"([^\"]*)\"|(\\d+))");

    public static void main(String[] args) throws Exception {
        String base = System.getenv("COMMS_BASE_URL").replaceAll("/$", "");
        String user = System.getenv("COMMS_ACCOUNT_ID") + ":" + System.getenv("COMMS_AUTH_TOKEN");
        String auth = "Basic " + Base64.getEncoder().encodeToString(user.getBytes(StandardCharsets.UTF_8));
        String json = System.getenv().getOrDefault("COMMS_LIST_PARAMS", "{}");
        Map<String, String> query = new LinkedHashMap<>();
        Matcher p = PARAM.matcher(json);
        while (p.find()) query.put(p.group(1), p.group(2) != null ? p.group(2) : p.group(3));

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<String> ids = new ArrayList<>();
        String token = null;
        do {
            Map<String, String> q = new LinkedHashMap<>(query);
            if (token != null) q.put("pageToken", token);
            String body = getPage(http, base + "/v1/PushNotifications/Operations?" + encode(q), auth);
            Matcher m = ID.matcher(body);
            while (m.find()) ids.add(m.group(1));
            Matcher n = NEXT.matcher(body);
            token = n.find() && !n.group(1).isEmpty() ? n.group(1) : null; // null, absent, "": end
        } while (token != null);
        ids.forEach(System.out::println);
    }

    /** Percent-encodes every value: the token's + / = and a date's +05:30 become %2B %2F %3D. */
    static String encode(Map<String, String> q) {
        StringJoiner out = new StringJoiner("&");
        q.forEach((k, v) -> out.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return out.toString();
    }

    static String getPage(HttpClient http, String url, String auth) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
                .timeout(Duration.ofSeconds(30)).build();
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            int status = r.statusCode();
            if (status == 200) return r.body();
            if ((status == 429 || status == 503) && attempt < 5) {
                Thread.sleep(retryAfterMillis(r.headers().firstValue("Retry-After").orElse("1")));
                continue; // the same request again
            }
            System.err.println("driver: HTTP " + status + ": " + r.body());
            System.exit(1);
        }
    }

    static long retryAfterMillis(String value) {
        if (value.matches("\\d+")) return Long.parseLong(value) * 1000; // delay-seconds
        ZonedDateTime when = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
        return Math.max(0, when.toInstant().toEpochMilli() - System.currentTimeMillis()) + 10;
    }
}
