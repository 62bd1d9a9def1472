package health.carapace.records.internal;

import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import java.util.Date;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Period;

/**
 * FHIR date search by ranges: a value of day precision is the whole day, a period its span; the
 * prefix then compares the resource's range with the parameter's (FHIR R4 §3.1.1.4.2).
 */
final class DateRanges {

    record Range(long low, long high) {}

    private DateRanges() {
    }

    static Range of(DateParam param) {
        long low = param.getValue().getTime();
        long high = param.getPrecision().add(param.getValue(), 1).getTime() - 1;
        return new Range(low, high);
    }

    /** The range a resource value covers, or null when it is not a date. */
    static Range of(Base value) {
        if (value instanceof BaseDateTimeType date && date.getValue() != null) {
            Date low = date.getValue();
            return new Range(low.getTime(), date.getPrecision().add(low, 1).getTime() - 1);
        }
        if (value instanceof Period period && (period.hasStart() || period.hasEnd())) {
            long low = period.hasStart() ? of(period.getStartElement()).low() : Long.MIN_VALUE;
            long high = period.hasEnd() ? of(period.getEndElement()).high() : Long.MAX_VALUE;
            return new Range(low, high);
        }
        return null;
    }

    static boolean matches(Range target, ParamPrefixEnum prefix, Range search) {
        boolean contained = target.low() >= search.low() && target.high() <= search.high();
        return switch (prefix == null ? ParamPrefixEnum.EQUAL : prefix) {
            case EQUAL -> contained;
            case NOT_EQUAL -> !contained;
            case GREATERTHAN -> target.high() > search.high();
            case LESSTHAN -> target.low() < search.low();
            case GREATERTHAN_OR_EQUALS -> target.high() > search.high() || contained;
            case LESSTHAN_OR_EQUALS -> target.low() < search.low() || contained;
            case STARTS_AFTER -> target.low() > search.high();
            case ENDS_BEFORE -> target.high() < search.low();
            case APPROXIMATE -> target.low() <= search.high() && target.high() >= search.low();
        };
    }
}
