package health.carapace.audit;

import java.util.regex.Pattern;

/**
 * Where a request came from. {@code deviceId} and {@code location} come from the documented
 * request headers {@code X-Device-Id} and {@code X-Geo-Location}; values that do not look like a
 * device id or a "latitude,longitude" pair are dropped, so a header cannot smuggle text into
 * the audit trail. {@code app} is the client id of the app whose token made the request (a SMART
 * app acting for a person, or a backend service), taken from the verified token, never a header:
 * a privacy officer sees which app read what (review F3).
 */
public record AuditContext(String ip, String deviceId, String location, String app) {

    /** A context without an app (a person's own session, a plain service client, no request). */
    public AuditContext(String ip, String deviceId, String location) {
        this(ip, deviceId, location, null);
    }

    public static final String DEVICE_HEADER = "X-Device-Id";
    public static final String LOCATION_HEADER = "X-Geo-Location";
    /** HL7 v3 PurposeOfUse code (TREAT, ETREAT, HPAYMT, HOPERAT, ...), recorded as purpose_of_use. */
    public static final String PURPOSE_HEADER = "X-Purpose-Of-Use";
    private static final Pattern PURPOSE = Pattern.compile("[A-Z]{2,12}");

    /** The purpose-of-use code if it has the shape of one, else null (free text never gets in). */
    public static String purposeOfUse(String header) {
        return header != null && PURPOSE.matcher(header).matches() ? header : null;
    }

    private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final Pattern LOCATION = Pattern.compile("-?\\d{1,2}(\\.\\d{1,7})?,-?\\d{1,3}(\\.\\d{1,7})?");
    private static final Pattern IP = Pattern.compile("[0-9A-Fa-f:.%]{2,64}");

    public AuditContext {
        ip = ip != null && IP.matcher(ip).matches() ? ip : null;
        deviceId = deviceId != null && DEVICE.matcher(deviceId).matches() ? deviceId : null;
        location = location != null && LOCATION.matcher(location).matches() ? location : null;
        app = app != null && DEVICE.matcher(app).matches() ? app : null;
    }

    /**
     * Request attribute holding the real client address (a literal), set by the access module
     * before anything else runs: X-Forwarded-For is honoured only from trusted proxies, so the
     * audit trail records the same address the IP-range constraints were checked against.
     */
    public static final String CLIENT_ADDRESS_ATTRIBUTE = "health.carapace.audit.client-address";

    /**
     * Request attribute holding the client id of the app whose verified token made the request,
     * set by sign-in when it resolves the token into a caller; every event of the request names it.
     */
    public static final String APP_ATTRIBUTE = "health.carapace.audit.app";

    /** The context of an HTTP request: client address and the documented headers. */
    public static AuditContext of(jakarta.servlet.http.HttpServletRequest request) {
        Object client = request.getAttribute(CLIENT_ADDRESS_ATTRIBUTE);
        String ip = client instanceof String address ? address : request.getRemoteAddr();
        Object app = request.getAttribute(APP_ATTRIBUTE);
        return new AuditContext(ip, request.getHeader(DEVICE_HEADER), request.getHeader(LOCATION_HEADER),
                app instanceof String appId ? appId : null);
    }

    public static AuditContext none() {
        return new AuditContext(null, null, null);
    }
}
