package health.carapace.records.internal;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamReader;

/**
 * Where in a body the first element its type does not define sits, by schema path
 * ({@code Patient.name}), for the refusal's {@code issue.expression}. HAPI's parsers report an
 * unknown element without a location, so the body (already refused) is walked again beside HAPI's
 * definitions. The unknown name itself is named only when it is an element name FHIR R4 defines
 * somewhere (a misplaced {@code status}, say): any other key is input, and may be data (a surname
 * used as a key); then the path ends at its parent. No value is ever read into the answer.
 */
final class UnknownElements {

    private static final String FHIR_NAMESPACE = "http://hl7.org/fhir";
    private static final int MAX_DEPTH = 64;

    /** Built once: walking every R4 definition for the names takes a moment. */
    private static final class R4 {
        static final UnknownElements INSTANCE = new UnknownElements(FhirContext.forR4Cached());
    }

    static UnknownElements r4() {
        return R4.INSTANCE;
    }

    private final FhirContext fhir;
    private final Set<String> elementNames;

    UnknownElements(FhirContext fhir) {
        this.fhir = fhir;
        Set<String> names = new HashSet<>();
        Set<BaseRuntimeElementDefinition<?>> seen = new HashSet<>();
        for (String type : fhir.getResourceTypes()) {
            collect(fhir.getResourceDefinition(type), names, seen);
        }
        for (BaseRuntimeElementDefinition<?> definition : fhir.getElementDefinitions()) {
            collect(definition, names, seen);
        }
        this.elementNames = Set.copyOf(names);
    }

    private static void collect(BaseRuntimeElementDefinition<?> definition, Set<String> names,
            Set<BaseRuntimeElementDefinition<?>> seen) {
        if (!(definition instanceof BaseRuntimeElementCompositeDefinition<?> composite) || !seen.add(definition)) {
            return;
        }
        for (BaseRuntimeChildDefinition child : composite.getChildren()) {
            names.addAll(child.getValidChildNames());
            // choices and extensions hold datatypes collected on their own (getElementDefinitions)
            if (child instanceof ca.uhn.fhir.context.RuntimeChildChoiceDefinition
                    || child instanceof ca.uhn.fhir.context.RuntimeChildExtension
                    || child instanceof ca.uhn.fhir.context.RuntimeChildUndeclaredExtensionDefinition) {
                continue;
            }
            for (String name : child.getValidChildNames()) {
                collect(child.getChildByName(name), names, seen);
            }
        }
    }

    /** The path of the first unknown element in a JSON or XML resource body, if one is found. */
    Optional<String> locate(String body, boolean xml) {
        return find(body, xml, null);
    }

    /**
     * The path of the first element named {@code name} (a name FHIR defines; HAPI names the element
     * whose value it could not parse, without a path), if one is found.
     */
    Optional<String> locateNamed(String body, boolean xml, String name) {
        return elementNames.contains(name) ? find(body, xml, name) : Optional.empty();
    }

    private Optional<String> find(String body, boolean xml, String target) {
        try {
            return xml ? xml(body, target) : json(body, target);
        } catch (RuntimeException | javax.xml.stream.XMLStreamException e) {
            return Optional.empty();
        }
    }

    private Optional<String> json(String body, String target) {
        JsonObject root = Json.createReader(new StringReader(body)).readObject();
        return jsonResource(root, "", 0, target);
    }

    private Optional<String> jsonResource(JsonObject object, String prefix, int depth, String target) {
        if (!(object.get("resourceType") instanceof JsonString type)) {
            return Optional.empty();
        }
        RuntimeResourceDefinition definition;
        try {
            definition = fhir.getResourceDefinition(type.getString());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        String path = prefix.isEmpty() ? definition.getName() : prefix + ".ofType(" + definition.getName() + ")";
        return jsonComposite(object, definition, path, depth, target);
    }

    private Optional<String> jsonComposite(JsonObject object, BaseRuntimeElementCompositeDefinition<?> definition,
            String path, int depth, String target) {
        if (depth > MAX_DEPTH) {
            return Optional.empty();
        }
        for (var member : object.entrySet()) {
            String key = member.getKey();
            if (key.equals("resourceType") || key.equals("fhir_comments")) {
                continue;
            }
            String name = key.startsWith("_") ? key.substring(1) : key;
            BaseRuntimeChildDefinition child = definition.getChildByName(name);
            if (child == null) {
                return target == null ? Optional.of(named(path, name)) : Optional.empty();
            }
            if (name.equals(target)) {
                return Optional.of(path + "." + name);
            }
            if (key.startsWith("_")) {
                continue;
            }
            BaseRuntimeElementDefinition<?> element = elementOf(child, name);
            for (JsonValue value : member.getValue() instanceof JsonArray array ? array : java.util.List.of(member.getValue())) {
                if (!(value instanceof JsonObject nested)) {
                    continue;
                }
                Optional<String> found = nested.containsKey("resourceType")
                        ? jsonResource(nested, path + "." + name, depth + 1, target)
                        : element instanceof BaseRuntimeElementCompositeDefinition<?> composite
                                ? jsonComposite(nested, composite, path + "." + name, depth + 1, target) : Optional.empty();
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    private Optional<String> xml(String body, String target) throws javax.xml.stream.XMLStreamException {
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        XMLStreamReader reader = factory.createXMLStreamReader(new StringReader(body));
        java.util.ArrayDeque<Frame> stack = new java.util.ArrayDeque<>();
        while (reader.hasNext()) {
            int event = reader.next();
            if (event == XMLStreamConstants.END_ELEMENT) {
                stack.pop();
                continue;
            }
            if (event != XMLStreamConstants.START_ELEMENT) {
                continue;
            }
            String name = reader.getLocalName();
            Frame parent = stack.peek();
            if (!FHIR_NAMESPACE.equals(reader.getNamespaceURI()) || parent != null && parent.definition() == null
                    || stack.size() > MAX_DEPTH) {
                // XHTML in a narrative, or below something not walked: nothing to check
                stack.push(new Frame(parent == null ? "" : parent.path(), null, false));
                continue;
            }
            if (parent == null || parent.expectsResource()) {
                BaseRuntimeElementCompositeDefinition<?> resource;
                try {
                    resource = fhir.getResourceDefinition(name);
                } catch (RuntimeException e) {
                    return Optional.empty();
                }
                String path = parent == null ? name : parent.path() + ".ofType(" + name + ")";
                stack.push(new Frame(path, resource, false));
                continue;
            }
            BaseRuntimeChildDefinition child = parent.definition().getChildByName(name);
            if (child == null) {
                return target == null ? Optional.of(named(parent.path(), name)) : Optional.empty();
            }
            if (name.equals(target)) {
                return Optional.of(parent.path() + "." + name);
            }
            BaseRuntimeElementDefinition<?> element = elementOf(child, name);
            boolean resourceSlot = element == null || element instanceof RuntimeResourceDefinition
                    || element.getName().equals("Resource") || element.getName().equals("DomainResource");
            stack.push(new Frame(parent.path() + "." + name,
                    element instanceof BaseRuntimeElementCompositeDefinition<?> composite && !resourceSlot ? composite
                            : resourceSlot ? parent.definition() : null,
                    resourceSlot));
        }
        return Optional.empty();
    }

    /**
     * The definition of {@code name} under {@code child}, or null for an extension (whose values
     * are datatypes, not walked here, as in the name collection above): HAPI's extension children
     * look the name up among their typed choices and assert that it is there, so asking them
     * failed with an {@code AssertionError} wherever assertions are on (found by fuzzing).
     */
    private static BaseRuntimeElementDefinition<?> elementOf(BaseRuntimeChildDefinition child, String name) {
        if (child instanceof ca.uhn.fhir.context.RuntimeChildExtension
                || child instanceof ca.uhn.fhir.context.RuntimeChildUndeclaredExtensionDefinition
                || !child.getValidChildNames().contains(name)) {
            return null;
        }
        return child.getChildByName(name);
    }

    private record Frame(String path, BaseRuntimeElementCompositeDefinition<?> definition, boolean expectsResource) {}

    /** The path to an unknown element: its own name only when FHIR defines that name somewhere. */
    private String named(String parent, String name) {
        return elementNames.contains(name) && name.matches("[a-z][A-Za-z0-9]{0,63}") ? parent + "." + name : parent;
    }
}
