package health.carapace.incident.internal;

import ca.uhn.fhir.context.FhirContext;
import health.carapace.platform.web.OperationOutcomes;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON in and out of the incident admin routes: strict reading (a JSON object of known fields,
 * UTF-8, at most 16 KiB) and refusals as OperationOutcomes whose messages are ours, never the input.
 */
final class AdminJson {

    static final int MAX_BODY_BYTES = 16 * 1024;
    static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // an absent flag is false (Jackson 3 refuses absent primitives by default)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();
    private static final MediaType FHIR_JSON = MediaType.parseMediaType("application/fhir+json");
    private static final FhirContext FHIR = FhirContext.forR4Cached();

    /** A request body that could not be used; the message is a constant sentence. */
    static final class BadBody extends Exception {
        private static final long serialVersionUID = 1L;
        final HttpStatus status;

        BadBody(HttpStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private AdminJson() {
    }

    static <T> T read(HttpServletRequest request, Class<T> type, String what) throws BadBody, IOException {
        MediaType mediaType;
        try {
            mediaType = request.getContentType() == null ? null : MediaType.parseMediaType(request.getContentType());
        } catch (IllegalArgumentException malformed) {
            mediaType = null;
        }
        if (mediaType == null || !MediaType.APPLICATION_JSON.isCompatibleWith(mediaType)) {
            throw new BadBody(HttpStatus.UNSUPPORTED_MEDIA_TYPE, what + " is sent as application/json");
        }
        byte[] body = request.getInputStream().readNBytes(MAX_BODY_BYTES + 1);
        if (body.length == 0 || body.length > MAX_BODY_BYTES) {
            throw new BadBody(HttpStatus.BAD_REQUEST, what + " of 1 byte to 16 KiB is required");
        }
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(body));
            T value = JSON.readValue(body, type);
            if (value == null) {
                throw new BadBody(HttpStatus.BAD_REQUEST, what + " is a JSON object");
            }
            return value;
        } catch (CharacterCodingException | JacksonException | IllegalArgumentException e) {
            // Jackson's and the value types' messages may quote the input: never passed on.
            throw new BadBody(HttpStatus.BAD_REQUEST, what + " is not valid: see docs/INCIDENTS.md for its fields");
        }
    }

    static ResponseEntity<String> ok(HttpStatus status, Object value) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON)
                .body(JSON.writeValueAsString(value));
    }

    static ResponseEntity<String> outcome(HttpStatus status, IssueType code, String message) {
        return ResponseEntity.status(status).contentType(FHIR_JSON)
                .body(FHIR.newJsonParser().encodeResourceToString(OperationOutcomes.of(code, message)));
    }

    static ResponseEntity<String> outcome(BadBody bad) {
        return outcome(bad.status, bad.status == HttpStatus.UNSUPPORTED_MEDIA_TYPE ? IssueType.NOTSUPPORTED
                : IssueType.INVALID, bad.getMessage());
    }
}
