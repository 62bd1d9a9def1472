package health.carapace.export.internal;

import com.google.crypto.tink.StreamingAead;
import com.nimbusds.jose.util.JSONObjectUtils;
import health.carapace.records.RecordExport;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The {@code _typeFilter}s of a kick-off (Bulk Data 2.0): each {@code Type?query}, comma-separated
 * or repeated, its query's commas percent-encoded. They are search values (PHI), so a job keeps
 * them only sealed under the export's own key, and no message here repeats one.
 */
final class TypeFilters {

    /** A filter that cannot be parsed or served, with a message that names no value. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private TypeFilters() {
    }

    /** The filters of the {@code _typeFilter} values, each for one of {@code requestedTypes}; refused otherwise. */
    static List<RecordExport.TypeFilter> parse(String[] values, Collection<String> requestedTypes) throws Refused {
        List<RecordExport.TypeFilter> filters = new ArrayList<>();
        for (String value : values) {
            for (String text : value.split(",", -1)) {
                filters.add(parseOne(text.strip(), requestedTypes));
            }
        }
        return filters;
    }

    private static RecordExport.TypeFilter parseOne(String text, Collection<String> requestedTypes) throws Refused {
        int question = text.indexOf('?');
        if (question <= 0 || question == text.length() - 1) {
            throw new Refused("Each _typeFilter is a resource type and a search query: Type?parameter=value");
        }
        String type = text.substring(0, question);
        if (!requestedTypes.contains(type)) {
            throw new Refused("A _typeFilter names a type that is not exported by this request (see _type)");
        }
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        for (String pair : text.substring(question + 1).split("&", -1)) {
            int equals = pair.indexOf('=');
            if (equals <= 0) {
                throw new Refused("Each _typeFilter parameter is written name=value");
            }
            try {
                String name = URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8);
                String decoded = URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
                parameters.computeIfAbsent(name, n -> new ArrayList<>()).add(decoded);
            } catch (IllegalArgumentException malformed) {
                throw new Refused("A _typeFilter is not correctly percent-encoded");
            }
        }
        return new RecordExport.TypeFilter(type, parameters);
    }

    private static byte[] associatedData(UUID job) {
        return ("carapace-export/" + job + "/type-filter").getBytes(StandardCharsets.UTF_8);
    }

    /** The filters sealed under the export's key; null for none. */
    static byte[] seal(StreamingAead key, UUID job, List<RecordExport.TypeFilter> filters)
            throws GeneralSecurityException, IOException {
        if (filters.isEmpty()) {
            return null;
        }
        List<Object> plain = new ArrayList<>();
        for (RecordExport.TypeFilter filter : filters) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("type", filter.type());
            entry.put("parameters", new LinkedHashMap<>(filter.parameters()));
            plain.add(entry);
        }
        ByteArrayOutputStream sealed = new ByteArrayOutputStream();
        try (OutputStream out = key.newEncryptingStream(sealed, associatedData(job))) {
            out.write(JSONObjectUtils.toJSONString(Map.of("filters", plain)).getBytes(StandardCharsets.UTF_8));
        }
        return sealed.toByteArray();
    }

    /** The filters a job was started with (empty for none). */
    @SuppressWarnings("unchecked")
    static List<RecordExport.TypeFilter> open(StreamingAead key, UUID job, byte[] sealed)
            throws GeneralSecurityException, IOException {
        if (sealed == null) {
            return List.of();
        }
        byte[] json;
        try (InputStream in = key.newDecryptingStream(new ByteArrayInputStream(sealed), associatedData(job))) {
            json = in.readAllBytes();
        }
        List<RecordExport.TypeFilter> filters = new ArrayList<>();
        try {
            for (Object entry : JSONObjectUtils.getJSONArray(JSONObjectUtils.parse(new String(json, StandardCharsets.UTF_8)),
                    "filters")) {
                Map<String, Object> filter = (Map<String, Object>) entry;
                Map<String, List<String>> parameters = new LinkedHashMap<>();
                ((Map<String, Object>) filter.get("parameters")).forEach((name, values) ->
                        parameters.put(name, ((List<Object>) values).stream().map(String.class::cast).toList()));
                filters.add(new RecordExport.TypeFilter((String) filter.get("type"), parameters));
            }
        } catch (java.text.ParseException e) {
            throw new GeneralSecurityException("the sealed filters of an export are not readable", e);
        }
        return filters;
    }
}
