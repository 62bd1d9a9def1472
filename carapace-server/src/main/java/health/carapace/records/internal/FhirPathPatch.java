package health.carapace.records.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;

/**
 * FHIRPath Patch (FHIR R4 §3.1.0.3, a {@code Parameters} body): the operations add, insert,
 * delete, replace and move, applied to a resource through HAPI's own element model
 * ({@link Base#setProperty}, {@link Base#removeChild}, {@link Base#addChild}).
 *
 * <p>Paths are the subset of FHIRPath that names elements: {@code Type.element[index].element...}.
 * Functions ({@code where()}, {@code resolve()}, {@code trace()}, ...) are refused: evaluating
 * arbitrary FHIRPath on a decrypted record would let a patch fetch ({@code resolve}), log
 * ({@code trace}) or spend unbounded time, and the element subset is what clients send to edit a
 * record. HAPI's {@code FhirPatch} (hapi-fhir-storage) evaluates full FHIRPath and brings the JPA
 * stack with it; ADR 0025 says why it is not used.
 *
 * <p>Refusals of the document itself (400) name the rule broken, never a path or a value from it;
 * an operation that cannot be applied to this record is for {@link RecordPatch} to answer with its
 * one 422 (which step failed would tell what the record holds).
 */
final class FhirPathPatch {

    private static final Pattern SEGMENT = Pattern.compile("([a-z][A-Za-z0-9]{0,63})(?:\\[(\\d{1,4})])?");
    private static final Pattern PATH = Pattern.compile(
            "[A-Z][A-Za-z]{0,63}(?:\\.[a-z][A-Za-z0-9]{0,63}(?:\\[\\d{1,4}])?){0,24}");
    private static final Set<String> TYPES = Set.of("add", "insert", "delete", "replace", "move");
    private static final Set<String> SERVER_OWNED = Set.of("id", "meta");
    private static final int MAX_OPERATIONS = 1000;

    /** Thrown when an operation cannot be applied to this record (a path that selects nothing, a wrong index). */
    static final class NotApplicable extends RuntimeException {
        NotApplicable() {
            super(null, null, false, false);
        }
    }

    private record Segment(String name, Integer index) {}

    /** One operation, checked against the document rules (not yet against a record). */
    private record Operation(String type, List<Segment> path, String name, ParametersParameterComponent value,
            Integer index, Integer source, Integer destination) {}

    private final String resourceType;
    private final List<Operation> operations;

    private FhirPathPatch(String resourceType, List<Operation> operations) {
        this.resourceType = resourceType;
        this.operations = operations;
    }

    /** The patch document, checked: operations of known types on element paths, none touching id or meta. */
    static FhirPathPatch of(String resourceType, Parameters parameters) {
        List<Operation> operations = new ArrayList<>();
        if (parameters.getParameter().size() > MAX_OPERATIONS) {
            throw SafeFhirException.badRequest("A FHIRPath Patch may hold at most " + MAX_OPERATIONS + " operations");
        }
        for (ParametersParameterComponent parameter : parameters.getParameter()) {
            if (!"operation".equals(parameter.getName()) || parameter.hasValue() || parameter.hasResource()) {
                throw SafeFhirException.badRequest("A FHIRPath Patch is a Parameters resource whose parameters are "
                        + "all named operation, each with parts");
            }
            operations.add(operation(resourceType, parameter));
        }
        if (operations.isEmpty()) {
            throw SafeFhirException.badRequest("The FHIRPath Patch has no operations");
        }
        return new FhirPathPatch(resourceType, List.copyOf(operations));
    }

    private static Operation operation(String resourceType, ParametersParameterComponent parameter) {
        String type = primitive(parameter, "type");
        String pathText = primitive(parameter, "path");
        if (type == null || !TYPES.contains(type) || pathText == null) {
            throw SafeFhirException.badRequest("Each FHIRPath Patch operation needs a type (add, insert, delete, "
                    + "replace or move) and a path");
        }
        List<Segment> path = path(resourceType, pathText);
        String name = primitive(parameter, "name");
        ParametersParameterComponent value = part(parameter, "value");
        Integer index = integer(parameter, "index");
        Integer source = integer(parameter, "source");
        Integer destination = integer(parameter, "destination");
        boolean complete = switch (type) {
            case "add" -> name != null && value != null;
            case "insert" -> value != null && index != null;
            case "replace" -> value != null;
            case "move" -> source != null && destination != null;
            default -> true;
        };
        if (!complete) {
            throw SafeFhirException.badRequest("A FHIRPath Patch operation lacks a part its type requires (add: name "
                    + "and value; insert: index and value; replace: value; move: source and destination)");
        }
        if (type.equals("add") && !SEGMENT.matcher(name).matches()) {
            throw SafeFhirException.badRequest("The name of an add operation must be an element name");
        }
        boolean touchesOwned = path.isEmpty() && (!type.equals("add") || SERVER_OWNED.contains(name))
                || !path.isEmpty() && SERVER_OWNED.contains(path.get(0).name());
        if (touchesOwned) {
            throw SafeFhirException.badRequest("A patch may not change id, resourceType or meta, or replace the "
                    + "whole resource");
        }
        if (value != null && value.hasResource()) {
            throw SafeFhirException.badRequest("A FHIRPath Patch value may not be a resource");
        }
        return new Operation(type, path, name, value, index, source, destination);
    }

    /** The element path after the type name; the path must start with this resource's type. */
    private static List<Segment> path(String resourceType, String text) {
        if (!PATH.matcher(text).matches()) {
            throw SafeFhirException.badRequest("A FHIRPath Patch path must be an element path (Type.element, with "
                    + "[index] where an element repeats); FHIRPath functions are not supported");
        }
        String[] parts = text.split("\\.");
        if (!parts[0].equals(resourceType)) {
            throw SafeFhirException.badRequest("A FHIRPath Patch path must start with the type of the resource patched");
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            Matcher matcher = SEGMENT.matcher(parts[i]);
            if (!matcher.matches()) {
                throw SafeFhirException.badRequest("A FHIRPath Patch path must be an element path");
            }
            segments.add(new Segment(matcher.group(1), matcher.group(2) == null ? null : Integer.valueOf(matcher.group(2))));
        }
        return segments;
    }

    private static ParametersParameterComponent part(ParametersParameterComponent parameter, String name) {
        ParametersParameterComponent found = null;
        for (ParametersParameterComponent part : parameter.getPart()) {
            if (name.equals(part.getName())) {
                if (found != null) {
                    throw SafeFhirException.badRequest("A FHIRPath Patch operation names a part more than once");
                }
                found = part;
            }
        }
        return found;
    }

    private static String primitive(ParametersParameterComponent parameter, String name) {
        ParametersParameterComponent part = part(parameter, name);
        if (part == null) {
            return null;
        }
        if (!part.hasValue() || !part.getValue().isPrimitive()) {
            throw SafeFhirException.badRequest("A FHIRPath Patch operation's type, path and name are strings");
        }
        return part.getValue().primitiveValue();
    }

    private static Integer integer(ParametersParameterComponent parameter, String name) {
        ParametersParameterComponent part = part(parameter, name);
        if (part == null) {
            return null;
        }
        if (!(part.getValue() instanceof org.hl7.fhir.r4.model.IntegerType number) || number.getValue() == null
                || number.getValue() < 0) {
            throw SafeFhirException.badRequest("A FHIRPath Patch operation's index, source and destination are "
                    + "integers of 0 or more");
        }
        return number.getValue();
    }

    /** Applies every operation, in order, to {@code resource}; {@link NotApplicable} if one cannot be. */
    void applyTo(Resource resource) {
        if (!resource.fhirType().equals(resourceType)) {
            throw new NotApplicable();
        }
        try {
            for (Operation operation : operations) {
                apply(resource, operation);
            }
        } catch (org.hl7.fhir.exceptions.FHIRException | ClassCastException | IllegalArgumentException
                | IndexOutOfBoundsException | ReflectiveOperationException e) {
            // an element the type does not define, a value of the wrong type: the same one answer
            throw new NotApplicable();
        }
    }

    private static void apply(Resource resource, Operation operation) throws ReflectiveOperationException {
        List<Segment> path = operation.path();
        switch (operation.type()) {
            case "add" -> {
                Base container = single(select(resource, path));
                Property property = property(container, operation.name());
                if (!property.isList() && property.hasValues()) {
                    throw new NotApplicable();
                }
                add(container, operation.name(), operation.value());
            }
            case "insert" -> {
                Repeating list = repeating(resource, path);
                if (operation.index() > list.values().size()) {
                    throw new NotApplicable();
                }
                Base value = add(list.container(), list.name(), operation.value());
                List<Base> wanted = new ArrayList<>(list.values());
                wanted.add(operation.index(), value);
                rewrite(list.container(), list.name(), list.valuesNow(), wanted);
            }
            case "delete" -> {
                Segment last = path.get(path.size() - 1);
                List<Base> containers = select(resource, path.subList(0, path.size() - 1));
                if (containers.isEmpty()) {
                    return;
                }
                Base container = single(containers);
                List<Base> values = children(container, last.name());
                int target = pick(values, last.index(), true);
                if (target >= 0) {
                    container.removeChild(last.name(), values.get(target));
                }
            }
            case "replace" -> {
                Segment last = path.get(path.size() - 1);
                Base container = single(select(resource, path.subList(0, path.size() - 1)));
                List<Base> values = children(container, last.name());
                int target = pick(values, last.index(), false);
                Base replacement = standalone(operation.value(), values.get(target).getClass());
                if (!property(container, last.name()).isList()) {
                    container.setProperty(last.name(), replacement);
                    return;
                }
                List<Base> replaced = new ArrayList<>(values);
                replaced.set(target, replacement);
                rewrite(container, last.name(), values, replaced);
            }
            case "move" -> {
                Repeating list = repeating(resource, path);
                List<Base> values = list.values();
                if (operation.source() >= values.size() || operation.destination() >= values.size()) {
                    throw new NotApplicable();
                }
                List<Base> moved = new ArrayList<>(values);
                moved.add(operation.destination(), moved.remove((int) operation.source()));
                rewrite(list.container(), list.name(), values, moved);
            }
            default -> throw new IllegalStateException("operation types are checked when the patch is read");
        }
    }

    /** A repeating element named by a path without a final index: its container and current values. */
    private record Repeating(Base container, String name, List<Base> values) {
        List<Base> valuesNow() {
            return children(container, name);
        }
    }

    private static Repeating repeating(Resource resource, List<Segment> path) {
        if (path.isEmpty() || path.get(path.size() - 1).index() != null) {
            throw new NotApplicable();
        }
        Segment last = path.get(path.size() - 1);
        Base container = single(select(resource, path.subList(0, path.size() - 1)));
        if (!property(container, last.name()).isList()) {
            throw new NotApplicable();
        }
        return new Repeating(container, last.name(), new ArrayList<>(children(container, last.name())));
    }

    /** The elements a path selects, as FHIRPath would: every value of each step, or the one at [index]. */
    private static List<Base> select(Base root, List<Segment> path) {
        List<Base> current = List.of(root);
        for (Segment segment : path) {
            List<Base> next = new ArrayList<>();
            for (Base element : current) {
                List<Base> values = children(element, segment.name());
                if (segment.index() == null) {
                    next.addAll(values);
                } else if (segment.index() < values.size()) {
                    next.add(values.get(segment.index()));
                }
            }
            current = next;
        }
        return current;
    }

    private static List<Base> children(Base element, String name) {
        property(element, name);
        return element.listChildrenByName(name);
    }

    private static Property property(Base element, String name) {
        Property property = element.getNamedProperty(name);
        if (property == null) {
            throw new NotApplicable();
        }
        return property;
    }

    private static Base single(List<Base> elements) {
        if (elements.size() != 1) {
            throw new NotApplicable();
        }
        return elements.get(0);
    }

    /** The position in {@code values} of the element a final segment names (by index, or the only one); -1 for none. */
    private static int pick(List<Base> values, Integer index, boolean noneIsFine) {
        if (index != null) {
            if (index < values.size()) {
                return index;
            }
        } else if (values.size() == 1) {
            return 0;
        }
        if (noneIsFine && (values.isEmpty() || index != null)) {
            return -1;
        }
        throw new NotApplicable();
    }

    /** Adds a value (a datatype, or parts for a backbone element) as a new child; returns it. */
    private static Base add(Base container, String name, ParametersParameterComponent value) {
        if (value.hasValue()) {
            return container.setProperty(name, value.getValue().copy());
        }
        Base child = container.addChild(name);
        fill(child, value.getPart());
        return child;
    }

    /** A value built on its own (for replace): a datatype as given, or a new element of the target's class from parts. */
    private static Base standalone(ParametersParameterComponent value, Class<? extends Base> targetType)
            throws ReflectiveOperationException {
        if (value.hasValue()) {
            return value.getValue().copy();
        }
        Base element = targetType.getDeclaredConstructor().newInstance();
        fill(element, value.getPart());
        return element;
    }

    private static void fill(Base element, List<ParametersParameterComponent> parts) {
        if (parts.isEmpty()) {
            throw new NotApplicable();
        }
        for (ParametersParameterComponent part : parts) {
            if (part.hasResource() || !SEGMENT.matcher(part.getName() == null ? "" : part.getName()).matches()) {
                throw new NotApplicable();
            }
            property(element, part.getName());
            if (part.hasValue()) {
                element.setProperty(part.getName(), part.getValue().copy());
            } else {
                fill(element.addChild(part.getName()), part.getPart());
            }
        }
    }

    /** Replaces the values of a repeating element with {@code wanted}, in that order. */
    private static void rewrite(Base container, String name, List<Base> current, List<Base> wanted) {
        for (Base value : new ArrayList<>(current)) {
            container.removeChild(name, value);
        }
        if (!children(container, name).isEmpty()) {
            throw new NotApplicable();
        }
        for (Base value : wanted) {
            container.setProperty(name, value);
        }
    }
}
