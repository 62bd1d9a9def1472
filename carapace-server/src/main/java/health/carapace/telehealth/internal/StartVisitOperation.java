package health.carapace.telehealth.internal;

import health.carapace.access.Caller;
import health.carapace.audit.AuditAction;
import health.carapace.audit.AuditContext;
import health.carapace.audit.AuditEvent;
import health.carapace.audit.AuditTrail;
import health.carapace.platform.logging.RequestIds;
import health.carapace.platform.web.PublicBaseUrl;
import health.carapace.records.InstanceOperation;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Appointment;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.UrlType;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code POST /fhir/Appointment/{id}/$start-visit}: opens the video visit of a booked Appointment.
 * Records has already decided that the caller may read the Appointment (care relationship or
 * break-glass) and audited that read. Here, in one transaction: the Encounter the visit opens
 * (class VR, stored like any create, so the caller must be allowed to create Encounters), the
 * visit's row, and a fresh single-use link for the patient (earlier unused ones are revoked).
 * Asked again for a visit in progress, it issues a new patient link and no second Encounter.
 *
 * <p>Answers a Parameters: {@code visit} (the Appointment), {@code encounter}, {@code patient-link}
 * (the page's URL with the link in its fragment, which browsers never send to a server),
 * {@code patient-link-expires}, and per clinician participant a {@code clinician} part with
 * {@code practitioner} and {@code join}: where that clinician's app, signed in as usual, asks for
 * a one-time ticket to open the page ({@link JoinEndpoint}).
 */
final class StartVisitOperation implements InstanceOperation {

    static final String NAME = "$start-visit";
    private static final Set<Appointment.AppointmentStatus> STARTABLE = Set.of(Appointment.AppointmentStatus.BOOKED,
            Appointment.AppointmentStatus.ARRIVED, Appointment.AppointmentStatus.CHECKEDIN);

    private final Visits visits;
    private final TelehealthSettings settings;
    private final TransactionTemplate transactions;
    private final AuditTrail audit;
    private final PublicBaseUrl baseUrl;
    private final Clock clock;

    StartVisitOperation(Visits visits, TelehealthSettings settings, TransactionTemplate transactions, AuditTrail audit,
            PublicBaseUrl baseUrl, Clock clock) {
        this.visits = visits;
        this.settings = settings;
        this.transactions = transactions;
        this.audit = audit;
        this.baseUrl = baseUrl;
        this.clock = clock;
    }

    @Override
    public String resourceType() {
        return "Appointment";
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Parameters invoke(Target target) {
        Appointment appointment = (Appointment) target.resource();
        UUID appointmentId = UUID.fromString(appointment.getIdElement().getIdPart());
        if (!STARTABLE.contains(appointment.getStatus())) {
            throw new Refused(409, "A visit starts from a booked, arrived or checked-in Appointment");
        }
        if (target.patient() == null) {
            throw new Refused(400, "The Appointment has no Patient participant");
        }
        List<String> clinicians = appointment.getParticipant().stream()
                .map(Appointment.AppointmentParticipantComponent::getActor)
                .filter(actor -> actor.hasReference() && "Practitioner".equals(actor.getReferenceElement().getResourceType()))
                .map(actor -> "Practitioner/" + actor.getReferenceElement().getIdPart())
                .distinct().toList();
        if (clinicians.isEmpty() || clinicians.size() >= TelehealthSettings.MAX_PARTICIPANTS) {
            throw new Refused(400, "A visit has 1 to " + (TelehealthSettings.MAX_PARTICIPANTS - 1)
                    + " Practitioner participants besides the patient");
        }
        Caller caller = target.caller();
        record Started(UUID encounterId, String link) {}
        Started started = transactions.execute(status -> {
            var existing = visits.find(appointmentId);
            if (existing.isPresent() && existing.get().ended()) {
                throw new Refused(409, "This visit has ended; book a new Appointment for another one");
            }
            UUID encounterId;
            if (existing.isPresent()) {
                encounterId = existing.get().encounterId();
            } else {
                encounterId = UUID.fromString(target.create(encounter(appointmentId, target.patient(), clinicians))
                        .getIdElement().getIdPart());
                if (!visits.start(appointmentId, target.patient(), encounterId, clinicians, caller.principal())) {
                    throw new Refused(409, "This visit was started at the same moment by someone else; ask again");
                }
            }
            String link = visits.issuePatientLink(appointmentId, settings.patientLinkTtl());
            audit.recordInTransaction(List.of(new AuditEvent(UUID.randomUUID(), clock.instant(), caller.principal(),
                    existing.isPresent() ? AuditAction.MODIFIED : AuditAction.CREATED,
                    VisitAudit.path(appointmentId, "start"), VisitAudit.context(), true, target.patient(), null,
                    RequestIds.current(), false, null)));
            return new Started(encounterId, link);
        });
        Parameters out = new Parameters();
        out.addParameter().setName("visit").setValue(new Reference("Appointment/" + appointmentId));
        out.addParameter().setName("encounter").setValue(new Reference("Encounter/" + started.encounterId()));
        out.addParameter().setName("patient-link")
                .setValue(new UrlType(baseUrl.value() + VisitPage.PAGE + "#link=" + started.link()));
        out.addParameter().setName("patient-link-expires")
                .setValue(new InstantType(Date.from(clock.instant().plus(settings.patientLinkTtl()))));
        for (String clinician : clinicians) {
            var part = out.addParameter().setName("clinician");
            part.addPart().setName("practitioner").setValue(new Reference(clinician));
            part.addPart().setName("join").setValue(new UrlType(baseUrl.value() + JoinEndpoint.path(appointmentId)));
        }
        return out;
    }

    private Encounter encounter(UUID appointmentId, String patient, List<String> clinicians) {
        Encounter encounter = new Encounter();
        encounter.setStatus(Encounter.EncounterStatus.INPROGRESS);
        encounter.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "VR", "virtual"));
        encounter.setSubject(new Reference(patient));
        encounter.addAppointment(new Reference("Appointment/" + appointmentId));
        encounter.getPeriod().setStart(Date.from(clock.instant()));
        clinicians.forEach(c -> encounter.addParticipant().setIndividual(new Reference(c)));
        return encounter;
    }

}
