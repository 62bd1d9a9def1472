package health.carapace.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import java.net.http.HttpResponse;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;

/** Checks on the {@code OperationOutcome} that every refusal must carry. */
public final class Refusals {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private Refusals() {
    }

    /** Parses the body as an OperationOutcome in the encoding its Content-Type names; fails otherwise. */
    public static OperationOutcome outcomeOf(String contentType, String body) {
        EncodingEnum encoding = contentType == null ? null : EncodingEnum.forContentType(contentType);
        assertThat(encoding).as("FHIR encoding of the refusal's content type '%s'", contentType).isNotNull();
        IBaseResource parsed = encoding.newParser(FHIR).parseResource(body);
        assertThat(parsed).as("resource in the refusal").isInstanceOf(OperationOutcome.class);
        OperationOutcome outcome = (OperationOutcome) parsed;
        assertThat(outcome.getIssue()).as("issues of the refusal").isNotEmpty();
        assertThat(outcome.getIssueFirstRep().getCode()).as("issue code").isNotNull();
        return outcome;
    }

    public static OperationOutcome outcomeOf(HttpResponse<String> response) {
        return outcomeOf(response.headers().firstValue("Content-Type").orElse(null), response.body());
    }

    public static OperationOutcome outcomeOf(RawHttp.Response response) {
        return outcomeOf(response.header("Content-Type").orElse(null), response.body());
    }
}
