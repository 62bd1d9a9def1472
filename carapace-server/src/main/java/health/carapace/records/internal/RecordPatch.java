package health.carapace.records.internal;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import health.carapace.access.Interaction;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonStructure;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParsingException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * FHIR PATCH with a JSON Patch (RFC 6902, Jakarta JSON Processing) or a FHIRPath Patch
 * ({@link FhirPathPatch}, a Parameters resource in JSON or XML). The patch is decided as a
 * patch of the record's current version on its metadata before anything is decrypted (404, 403,
 * 410 and 412 as for an update), applied to the decrypted resource <em>as this caller would read
 * it</em> (SSNs masked for a caller without view:ssn, so neither {@code test} nor {@code copy} can
 * probe or move a value the caller may not see), and the result goes through the update path:
 * validation, the masked-value rule ({@link MaskedWriteBack}), the SSN rule, the decision on the
 * target compartment, versioning and audit. The version patched is the one the update must
 * replace, so a concurrent change is a 412, never a lost update.
 *
 * <p>A patch may not touch {@code id}, {@code resourceType} or {@code meta} (the server owns them)
 * nor replace the whole document. Refusals name the problem, never a path or value from the patch.
 */
final class RecordPatch {

    private static final Set<String> OPERATIONS = Set.of("add", "remove", "replace", "move", "copy", "test");
    private static final Set<String> SERVER_OWNED = Set.of("/id", "/resourceType", "/meta");

    private final FhirContext fhir;
    private final RecordStore store;
    private final RecordGuard guard;
    private final RecordAudit audit;

    RecordPatch(FhirContext fhir, RecordStore store, RecordGuard guard, RecordAudit audit) {
        this.fhir = fhir;
        this.store = store;
        this.guard = guard;
        this.audit = audit;
    }

    /** The one answer to every patch that cannot be applied: which step failed would tell what the record holds. */
    private static SafeFhirException notApplicable() {
        return new SafeFhirException(422, IssueType.PROCESSING,
                "The patch could not be applied to the current version (a path does not exist, a test failed, or the "
                        + "result is not valid FHIR)");
    }

    /**
     * A patch document as a Bundle entry carries it (FHIR R4, "Patch" in transactions): a
     * {@code Binary} whose {@code contentType} is {@code application/json-patch+json} holds a JSON
     * Patch; a {@code Parameters} resource is a FHIRPath Patch. The Binary's bytes get the scan
     * every request body gets ({@link StrictBody}), which saw them only as base64.
     */
    record Document(String body, ca.uhn.fhir.rest.api.PatchTypeEnum type) {

        static Document inBundle(FhirContext fhir, org.hl7.fhir.r4.model.Resource resource, StrictBody strictBody) {
            if (resource instanceof org.hl7.fhir.r4.model.Parameters parameters) {
                return new Document(fhir.newJsonParser().encodeResourceToString(parameters),
                        ca.uhn.fhir.rest.api.PatchTypeEnum.FHIR_PATCH_JSON);
            }
            if (resource instanceof org.hl7.fhir.r4.model.Binary binary && binary.getContentType() != null
                    && binary.getContentType().strip().toLowerCase(java.util.Locale.ROOT)
                            .startsWith("application/json-patch+json")) {
                byte[] data = binary.getData();
                if (data == null || data.length == 0) {
                    throw SafeFhirException.badRequest("The JSON Patch entry's Binary has no data");
                }
                strictBody.checkEmbeddedJson(data);
                return new Document(new String(data, StandardCharsets.UTF_8), ca.uhn.fhir.rest.api.PatchTypeEnum.JSON_PATCH);
            }
            throw SafeFhirException.badRequest("A PATCH entry carries a Binary with contentType application/json-patch+json "
                    + "(a JSON Patch) or a Parameters resource (a FHIRPath Patch)");
        }
    }

    /** The patched resource and the version it was computed from. */
    record Patched(Resource resource, long version) {}

    Patched apply(String type, UUID id, String body, OptionalLong ifMatch, ca.uhn.fhir.rest.api.PatchTypeEnum patchType) {
        String path = "/fhir/" + type + "/" + id;
        Optional<RecordStore.Loaded> loaded = store.load(type, id, null);
        if (loaded.isEmpty()) {
            guard.scope(Interaction.PATCH, type, null, path);
            throw SafeFhirException.notFound();
        }
        RecordStore.Row row = loaded.get().row();
        guard.decide(Interaction.PATCH, type, row.compartment(), loaded.get().category(), path);
        // A patch reads the record too: a test answers whether a value is there, a copy or move
        // carries it into the response. So it needs the READ decision a read of it would get.
        boolean breakGlass = guard.decide(Interaction.READ, type, row.compartment(), loaded.get().category(), path)
                .breakGlass();
        if (row.shredded()) {
            throw SafeFhirException.shredded();
        }
        if (row.deleted()) {
            throw SafeFhirException.gone();
        }
        if (ifMatch.isPresent() && ifMatch.getAsLong() != row.version()) {
            throw new SafeFhirException(412, IssueType.CONFLICT, "Version conflict: If-Match names version "
                    + ifMatch.getAsLong() + " but the current version is " + row.version());
        }
        // the document is checked before anything of the record is read: a malformed one is a 400
        JsonArray jsonPatch = patchType == ca.uhn.fhir.rest.api.PatchTypeEnum.JSON_PATCH ? operations(body) : null;
        FhirPathPatch fhirPathPatch = jsonPatch == null ? FhirPathPatch.of(type, parameters(body, patchType)) : null;
        try {
            // durable before the outcome depends on the content, outside the write's transaction:
            // a failed test rolls the write back, never this event
            audit.trail().record(java.util.List.of(audit.viewed(path, RecordGuard.patient(row.compartment()), breakGlass)));
        } catch (health.carapace.audit.AuditUnavailableException e) {
            throw new SafeFhirException(503, IssueType.TRANSIENT,
                    "The audit trail is unavailable, so no record can be patched; try again later");
        }
        Resource current = store.parse(store.plaintext(row));
        if (!guard.maySeeSsn()) {
            SsnMasking.maskAll(fhir, current);
        }
        JsonValue patched;
        if (jsonPatch != null) {
            JsonStructure target = Json.createReader(new StringReader(fhir.newJsonParser().encodeResourceToString(current)))
                    .read();
            try {
                patched = Json.createPatch(jsonPatch).apply(target);
            } catch (RuntimeException e) {
                throw notApplicable();
            }
        } else {
            try {
                fhirPathPatch.applyTo(current);
                patched = Json.createReader(new StringReader(fhir.newJsonParser().encodeResourceToString(current)))
                        .read();
            } catch (FhirPathPatch.NotApplicable | DataFormatException e) {
                throw notApplicable();
            }
        }
        if (!(patched instanceof JsonObject object)
                || !type.equals(object.getString("resourceType", null))) {
            throw SafeFhirException.badRequest("A patch may not change the resource type");
        }
        // The body was scanned (StrictBody); the result is scanned too, so that no way of
        // assembling a string (a path segment becoming a key, a move) stores what FHIR cannot hold.
        refuseForbiddenCharacters(object);
        try {
            Resource resource = (Resource) fhir.newJsonParser().parseResource(object.toString());
            resource.setId(new org.hl7.fhir.r4.model.IdType(type, id.toString()));
            return new Patched(resource, row.version());
        } catch (DataFormatException e) {
            throw notValidFhir(object.toString(), e);
        }
    }

    /**
     * The 422 for a patched result that is not valid FHIR, naming the element by its schema path as
     * a create or update would (ADR 0035): an unknown element (its name only if FHIR defines it), or
     * an element whose value does not fit its type; never a value. The path says nothing the caller
     * could not read: a patch needs the READ decision on the record, and the path is the patch's own.
     */
    private static SafeFhirException notValidFhir(String patched, DataFormatException error) {
        Optional<NamedParseErrors.Problem> problem = NamedParseErrors.behind(error.getMessage());
        Optional<String> path = Optional.empty();
        String what = "an element";
        if (problem.isPresent() && problem.get().getMessage().startsWith(NamedParseErrors.UNKNOWN_ELEMENT)) {
            path = UnknownElements.r4().locate(patched, false);
            what = "an element its type does not define";
        } else if (problem.isPresent() && problem.get().expression() != null) {
            String element = problem.get().expression();
            String last = element.substring(element.lastIndexOf('.') + 1);
            path = UnknownElements.r4().locateNamed(patched, false, last).or(() -> Optional.of(element));
            what = "an element that does not fit its definition";
        } else {
            java.util.regex.Matcher invalid = ErrorSanitiser.INVALID_VALUE.matcher(error.getMessage() == null ? "" : error.getMessage());
            if (invalid.find()) {
                path = UnknownElements.r4().locateNamed(patched, false, invalid.group(1));
                what = "an element whose value does not fit its type";
            }
        }
        if (path.isEmpty()) {
            return notApplicable();
        }
        SafeFhirException refusal = new SafeFhirException(422, IssueType.PROCESSING, "The patched resource is not "
                + "valid FHIR: it has " + what + " in " + path.get() + "; nothing was stored");
        ((org.hl7.fhir.r4.model.OperationOutcome) refusal.getOperationOutcome()).getIssueFirstRep()
                .addExpression(path.get());
        return refusal;
    }

    /** A FHIRPath Patch body, a Parameters resource in JSON or XML, parsed strictly. */
    private org.hl7.fhir.r4.model.Parameters parameters(String body, ca.uhn.fhir.rest.api.PatchTypeEnum patchType) {
        var parser = patchType == ca.uhn.fhir.rest.api.PatchTypeEnum.FHIR_PATCH_XML ? fhir.newXmlParser()
                : fhir.newJsonParser();
        try {
            return parser.parseResource(org.hl7.fhir.r4.model.Parameters.class, body == null ? "" : body);
        } catch (RuntimeException e) {
            // a NamedParseErrors refusal names schema only; any other parser message may echo the body
            String named = NamedParseErrors.behind(e.getMessage()).map(problem -> ": " + problem.getMessage()).orElse("");
            throw SafeFhirException.badRequest("The body is not a FHIRPath Patch (a Parameters resource of "
                    + "operations)" + named);
        }
    }

    /** The patch document, checked: an array of known operations, none touching what the server owns. */
    static JsonArray operations(String body) {
        JsonArray patch;
        try {
            patch = Json.createReader(new StringReader(body == null ? "" : body)).readArray();
        } catch (RuntimeException e) {
            // JsonException, JsonParsingException, IllegalStateException: whatever Parsson says, never its message
            throw SafeFhirException.badRequest("The body is not a JSON Patch document (a JSON array of operations)");
        }
        if (patch.isEmpty()) {
            throw SafeFhirException.badRequest("The JSON Patch has no operations");
        }
        for (JsonValue value : patch) {
            if (!(value instanceof JsonObject operation) || !(operation.get("op") instanceof JsonString op)
                    || !OPERATIONS.contains(op.getString()) || !(operation.get("path") instanceof JsonString path)) {
                throw SafeFhirException.badRequest("Each JSON Patch operation needs an op (add, remove, replace, move, "
                        + "copy or test) and a path");
            }
            if (op.getString().equals("test")) {
                continue;
            }
            if (touchesServerOwned(path.getString()) || (op.getString().equals("move")
                    && operation.get("from") instanceof JsonString from && touchesServerOwned(from.getString()))) {
                throw SafeFhirException.badRequest("A patch may not change id, resourceType or meta, or replace the "
                        + "whole resource");
            }
        }
        return patch;
    }

    private static void refuseForbiddenCharacters(JsonValue value) {
        if (value instanceof JsonString string) {
            StrictBody.refuseForbiddenCharacters(string.getString());
        } else if (value instanceof JsonObject object) {
            for (var member : object.entrySet()) {
                StrictBody.refuseForbiddenCharacters(member.getKey());
                refuseForbiddenCharacters(member.getValue());
            }
        } else if (value instanceof JsonArray array) {
            array.forEach(RecordPatch::refuseForbiddenCharacters);
        }
    }

    private static boolean touchesServerOwned(String pointer) {
        if (pointer.isEmpty()) {
            return true;
        }
        for (String owned : SERVER_OWNED) {
            if (pointer.equals(owned) || pointer.startsWith(owned + "/")) {
                return true;
            }
        }
        return false;
    }

}
