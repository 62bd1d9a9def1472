package health.carapace.signin.internal;

import static health.carapace.signin.internal.LoginHtml.error;
import static health.carapace.signin.internal.LoginHtml.escape;
import static health.carapace.signin.internal.LoginHtml.form;
import static health.carapace.signin.internal.LoginHtml.hidden;
import static health.carapace.signin.internal.LoginHtml.page;
import static health.carapace.signin.internal.LoginHtml.paragraph;
import static health.carapace.signin.internal.LoginHtml.redirect;

import health.carapace.access.AppScope;
import health.carapace.access.Caller;
import health.carapace.access.CareRelationships;
import health.carapace.access.ClientAddress;
import health.carapace.access.Interaction;
import health.carapace.access.RecordAccess;
import health.carapace.access.RoleCatalog;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.savedrequest.RequestCache;
import org.springframework.security.web.savedrequest.SavedRequest;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The consent page of SMART apps, after both factors and before the code: it lists what the app
 * asked for, what the person's roles let it have (the granted scopes: requested scopes narrowed to
 * the roles, never widened) and what is dropped and why; for a standalone launch with
 * {@code launch/patient} it is also the patient picker, offering only patients the person may
 * read (a care relationship, or any patient with {@code view:all_patients}), each choice decided
 * again by the policy when submitted. An EHR launch brings its patient with the {@code launch}
 * value instead. Approving stores a {@link SmartGrant} in the sign-in and resumes the
 * authorization request; denying sends the app {@code access_denied}. Same page rules as the
 * sign-in pages (ADR 0007): server-rendered, CSRF, strict CSP, nothing echoed.
 */
@RestController
class ConsentPages {

    private static final Logger log = LoggerFactory.getLogger(ConsentPages.class);
    static final String PATH = "/login/consent";
    private static final Set<String> IDENTITY = Set.of("openid", "fhirUser", "launch", "launch/patient");

    /** The scopes of one request, sorted into granted (as the token will spell them) and dropped (with why). */
    record Narrowed(List<String> granted, Map<String, String> dropped) {}

    /** The authorization request waiting for consent, as the authorization server validated it. */
    private record Pending(String clientId, String appName, Set<String> scopes, String launch, String redirectUri,
            String state, String resumeUrl, SmartGrant.Request binding) {}

    private final RequestCache authorizationRequests;
    private final RegisteredClientRepository clients;
    private final UserDirectory users;
    private final RoleCatalog catalog;
    private final RecordAccess access;
    private final CareRelationships relationships;
    private final ClientAddress addresses;
    private final SmartLaunches launches;
    private final Clock clock;
    private final HttpSessionSecurityContextRepository contexts = new HttpSessionSecurityContextRepository();
    private final health.carapace.audit.AuditTrail audit;

    ConsentPages(HumanSignIn signIn, RegisteredClientRepository clients, UserDirectory users, RoleCatalog catalog,
            RecordAccess access, CareRelationships relationships, ClientAddress addresses, SmartLaunches launches,
            Clock clock, health.carapace.audit.AuditTrail audit) {
        this.audit = audit;
        this.authorizationRequests = signIn.authorizationRequests();
        this.clients = clients;
        this.users = users;
        this.catalog = catalog;
        this.access = access;
        this.relationships = relationships;
        this.addresses = addresses;
        this.launches = launches;
        this.clock = clock;
    }

    /** Whether a resumed authorization request asks for scopes, and so needs this page first. */
    static boolean needed(SavedRequest authorization) {
        String[] scope = authorization == null ? null : authorization.getParameterValues("scope");
        return scope != null && scope.length == 1 && !scope[0].isBlank();
    }

    @GetMapping(PATH)
    ResponseEntity<String> consentForm(HttpServletRequest request, HttpServletResponse response) {
        Optional<HumanLogin> login = signedIn();
        Optional<Pending> pending = pending(request, response);
        if (login.isEmpty() || pending.isEmpty()) {
            return nothingToApprove();
        }
        Optional<Caller> person = users.caller(login.get().userId());
        if (person.isEmpty()) {
            return nothingToApprove();
        }
        return consentPage(request, pending.get(), login.get(), person.get(), null);
    }

    @PostMapping(PATH)
    ResponseEntity<String> consent(@RequestParam(name = "decision", required = false) String decision,
            @RequestParam(name = "patient", required = false) String patientChoice,
            @RequestParam(name = "patient_id", required = false) String patientTyped,
            HttpServletRequest request, HttpServletResponse response) {
        Optional<HumanLogin> login = signedIn();
        Optional<Pending> pending = pending(request, response);
        if (login.isEmpty() || pending.isEmpty()) {
            return nothingToApprove();
        }
        Optional<Caller> person = users.caller(login.get().userId());
        if (person.isEmpty()) {
            return nothingToApprove();
        }
        if (!"allow".equals(decision)) {
            endBrowserSession(request);
            authorizationRequests.removeRequest(request, response);
            return redirect(errorRedirect(pending.get(), "access_denied"));
        }
        Narrowed narrowed = narrow(pending.get().scopes(), person.get().roles(), catalog);
        String patient = null;
        if (pending.get().launch() != null) {
            Optional<String> launched = launches.use(pending.get().launch(), pending.get().clientId(),
                    person.get().principal());
            if (launched.isEmpty()) {
                return launchInvalid();
            }
            patient = launched.get();
        } else if (needsPatient(pending.get(), narrowed)) {
            String chosen = patientTyped != null && !patientTyped.isBlank() ? patientTyped.strip() : patientChoice;
            Optional<String> allowed = mayRead(person.get(), chosen, request);
            if (allowed.isEmpty()) {
                // what was typed is not recorded: it may be anything, and is not a decided reference
                auditConsent(request, person.get(), pending.get().clientId(), null, "patient-not-readable");
                return consentPage(request, pending.get(), login.get(), person.get(),
                        "Choose a patient from the list, or enter the id of a patient you may see.");
            }
            patient = allowed.get();
        }
        SmartGrant grant = new SmartGrant(pending.get().clientId(), List.copyOf(pending.get().scopes()),
                narrowed.granted(), patient == null ? null : patient.substring("Patient/".length()),
                person.get().practitionerId(), pending.get().binding());
        // the grant is on the record before it takes effect (fail closed: no audit, no code)
        if (!auditConsent(request, person.get(), pending.get().clientId(), patient, null)) {
            return ResponseEntity.status(503).contentType(org.springframework.http.MediaType.TEXT_PLAIN)
                    .body("The consent could not be recorded; try again later.");
        }
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(login.get().withGrant(grant));
        SecurityContextHolder.setContext(context);
        contexts.saveContext(context, request, response);
        return redirect(pending.get().resumeUrl());
    }

    // --- the page --------------------------------------------------------------------------------

    private ResponseEntity<String> consentPage(HttpServletRequest request, Pending pending, HumanLogin login,
            Caller person, String message) {
        Narrowed narrowed = narrow(pending.scopes(), person.roles(), catalog);
        StringBuilder body = new StringBuilder(error(message));
        // The app by its registered display name (what the administrator registered it as), its
        // client id beside it: a name alone can be chosen to look like another app's.
        body.append("<p id=\"consent-app\"><strong>").append(escape(pending.appName())).append("</strong> (")
                .append(escape(pending.clientId())).append(") asks to act for you, ").append(escape(login.getName()))
                .append(". It gets only what is listed under \"It will be allowed\", and only while you are signed in.</p>");
        body.append("<h2>It will be allowed</h2><ul id=\"granted-scopes\">");
        narrowed.granted().forEach(s -> body.append("<li>").append(escape(capitalised(describe(s)))).append(" <code>")
                .append(escape(s)).append("</code></li>"));
        body.append("</ul>");
        if (!narrowed.dropped().isEmpty()) {
            body.append("<h2>It will not be allowed</h2><ul id=\"dropped-scopes\">");
            narrowed.dropped().forEach((s, why) -> body.append("<li><code>").append(escape(s)).append("</code>: ")
                    .append(escape(why)).append("</li>"));
            body.append("</ul>");
        }
        StringBuilder fields = new StringBuilder(hidden("decision", "allow"));
        if (pending.launch() != null) {
            Optional<String> launched = launches.peek(pending.launch(), pending.clientId(), person.principal());
            if (launched.isEmpty()) {
                return launchInvalid();
            }
            body.append(paragraph("Patient opened from your record system: " + launched.get()));
        } else if (needsPatient(pending, narrowed)) {
            fields.append("<fieldset><legend>Patient</legend>");
            int n = 0;
            for (String patient : patientsToOffer(person, request)) {
                String id = patient.substring("Patient/".length());
                String radio = "patient-" + n++;
                fields.append("<div class=\"cp-field\"><label for=\"").append(radio).append("\"><input type=\"radio\" id=\"")
                        .append(radio).append("\" name=\"patient\" value=\"").append(escape(id)).append("\"> ")
                        .append(escape(patient)).append("</label></div>");
            }
            fields.append(LoginHtml.field("Or the id of another patient you may see", "patient_id", "text", "off", false,
                    null));
            fields.append("</fieldset>");
        }
        body.append(form(request, PATH, fields.toString(), "Allow"));
        body.append(form(request, PATH, hidden("decision", "deny"), "Deny", "cp-button-secondary"));
        return page(HttpStatus.OK, "Allow this application?", pending.appName(), body.toString());
    }

    private static String capitalised(String words) {
        return words.isEmpty() ? words : Character.toUpperCase(words.charAt(0)) + words.substring(1);
    }

    /** What a scope lets the app do, in words (the consent page shows them before the scope itself). */
    static String describe(String scope) {
        return switch (scope) {
            case "openid" -> "confirm who you are to the application (an identity token)";
            case "fhirUser" -> "tell the application which practitioner record is yours";
            case "launch", "launch/patient" -> "open with the patient you choose";
            default -> AppScope.parseResource(scope).map(ConsentPages::describe).orElse(scope);
        };
    }

    private static String describe(AppScope.ResourceScope scope) {
        // in the order a person reads them, whatever order the scope spells them in
        List<String> verbs = new ArrayList<>();
        for (AppScope.Permission p : List.of(AppScope.Permission.R, AppScope.Permission.S, AppScope.Permission.C,
                AppScope.Permission.U, AppScope.Permission.D)) {
            if (!scope.permissions().contains(p)) {
                continue;
            }
            verbs.add(switch (p) {
                case C -> "create";
                case R -> "read";
                case U -> "change";
                case D -> "delete";
                case S -> "search";
            });
        }
        String what = "*".equals(scope.type()) ? "any record your roles allow" : scope.type() + " records";
        String whose = switch (scope.context()) {
            case PATIENT -> "of the chosen patient only";
            case USER -> "of every patient you may see";
            case SYSTEM -> "of every patient (system)";
        };
        return String.join(", ", verbs) + " " + what + " " + whose;
    }

    // --- the rules ---------------------------------------------------------------------------------

    /**
     * The requested scopes narrowed to the person's roles: a resource scope keeps the permissions
     * (c, r, u, d, s) that some role of the person opens on its type ({@code *}: on some type),
     * and is dropped when none is left. Scopes with a query, {@code system/} scopes (for backend
     * services), {@code offline_access} (refresh tokens always end with the sign-in session) and
     * the rest that grant nothing here are dropped and listed.
     */
    static Narrowed narrow(Set<String> requested, Set<String> roles, RoleCatalog catalog) {
        Set<String> held = new HashSet<>();
        for (RoleCatalog.RoleSummary role : catalog.roles()) {
            if (roles.contains(role.name())) {
                held.addAll(role.permissions());
            }
        }
        List<String> granted = new ArrayList<>();
        Map<String, String> dropped = new LinkedHashMap<>();
        for (String scope : new TreeSet<>(requested)) {
            if (IDENTITY.contains(scope)) {
                granted.add(scope);
                continue;
            }
            Optional<AppScope.ResourceScope> resource = AppScope.parseResource(scope);
            if (resource.isEmpty()) {
                dropped.put(scope, "offline_access".equals(scope)
                        ? "access always ends with your sign-in session (idle timeout, sign-out)"
                        : "not offered by this server");
                continue;
            }
            if (!resource.get().servable()) {
                dropped.put(scope, "a scope limited by a search cannot be enforced here; ask for the type without it");
                continue;
            }
            if (resource.get().context() == AppScope.Context.SYSTEM) {
                dropped.put(scope, "system scopes are for backend services, not for people");
                continue;
            }
            Set<String> types = "*".equals(resource.get().type()) ? catalog.resourceTypes() : Set.of(resource.get().type());
            Set<AppScope.Permission> kept = EnumSet.noneOf(AppScope.Permission.class);
            for (AppScope.Permission permission : resource.get().permissions()) {
                if (opened(permission, types, held, catalog)) {
                    kept.add(permission);
                }
            }
            if (kept.isEmpty()) {
                dropped.put(scope, "your roles allow none of it");
            } else {
                AppScope.ResourceScope narrowed = resource.get().withPermissions(kept);
                granted.add(narrowed.toString());
                if (!kept.equals(resource.get().permissions())) {
                    dropped.put(scope, "narrowed to " + narrowed + ": your roles allow no more");
                }
            }
        }
        return new Narrowed(List.copyOf(new LinkedHashSet<>(granted)), dropped);
    }

    private static boolean opened(AppScope.Permission permission, Set<String> types, Set<String> held,
            RoleCatalog catalog) {
        for (Interaction interaction : Interaction.values()) {
            if (AppScope.permissionFor(interaction) != permission) {
                continue;
            }
            for (String type : types) {
                for (String category : Arrays.asList(null, health.carapace.access.Permissions.IMAGING_CATEGORY)) {
                    for (String opening : catalog.permissionsOpening(interaction, type, category)) {
                        if (held.contains(opening)) {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }

    /** A patient is chosen on this page when the app asked for one, or holds patient scopes without an EHR launch. */
    private static boolean needsPatient(Pending pending, Narrowed narrowed) {
        return pending.scopes().contains("launch/patient") || narrowed.granted().stream()
                .anyMatch(s -> s.startsWith("patient/"));
    }

    /** Patients in a care relationship with the person whom the policy lets them read now. */
    private List<String> patientsToOffer(Caller person, HttpServletRequest request) {
        List<String> offered = new ArrayList<>();
        for (String patient : relationships.patientsOf(person)) {
            if (offered.size() >= 50) {
                break;
            }
            if (readable(person, patient, request)) {
                offered.add(patient);
            }
        }
        return offered;
    }

    /** The chosen patient as {@code Patient/<uuid>}, if the text is a patient id the policy lets the person read now. */
    private Optional<String> mayRead(Caller person, String chosen, HttpServletRequest request) {
        if (chosen == null || chosen.length() != 36) {
            return Optional.empty();
        }
        UUID id;
        try {
            id = UUID.fromString(chosen);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        String patient = "Patient/" + id;
        if (!id.toString().equals(chosen.toLowerCase(Locale.ROOT)) || !readable(person, patient, request)) {
            return Optional.empty();
        }
        return Optional.of(patient);
    }

    /**
     * Audits a consent given to an app ({@code reason} null) or a patient refused on the page; the
     * resource names the app, never the scopes' values or what was typed. False if not durable.
     */
    private boolean auditConsent(HttpServletRequest request, Caller person, String clientId, String patient,
            String reason) {
        try {
            audit.record(List.of(new health.carapace.audit.AuditEvent(java.util.UUID.randomUUID(), clock.instant(),
                    person.principal(), reason == null ? health.carapace.audit.AuditAction.CREATED
                            : health.carapace.audit.AuditAction.DENIED, PATH + "/" + clientId,
                    health.carapace.audit.AuditContext.of(request), reason == null, patient, null,
                    health.carapace.platform.logging.RequestIds.current(), false, null, reason)));
            return true;
        } catch (health.carapace.audit.AuditUnavailableException e) {
            log.warn("A SMART consent could not be audited", e);
            return false;
        }
    }

    /** Readable now, and not only through the person's emergency access (which an app never uses). */
    private boolean readable(Caller person, String patient, HttpServletRequest request) {
        var decision = access.decide(person, Interaction.READ, "Patient", null, patient, addresses.resolve(request),
                clock.instant());
        return decision.allowed() && !decision.breakGlass();
    }

    // --- session and request ---------------------------------------------------------------------

    private static Optional<HumanLogin> signedIn() {
        return SecurityContextHolder.getContext().getAuthentication() instanceof HumanLogin login
                ? Optional.of(login) : Optional.empty();
    }

    private Optional<Pending> pending(HttpServletRequest request, HttpServletResponse response) {
        SavedRequest saved = authorizationRequests.getRequest(request, response);
        if (!needed(saved)) {
            return Optional.empty();
        }
        String clientId = single(saved, "client_id");
        RegisteredClient client = clientId == null ? null : clients.findByClientId(clientId);
        if (client == null || client.getScopes().isEmpty()) {
            return Optional.empty();
        }
        Set<String> scopes = new LinkedHashSet<>(Arrays.asList(single(saved, "scope").strip().split(" +")));
        String redirectUri = single(saved, "redirect_uri");
        if (redirectUri == null) {
            redirectUri = client.getRedirectUris().size() == 1 ? client.getRedirectUris().iterator().next() : null;
        }
        // The request as sent (redirect_uri may be absent: then Spring's request has none either).
        SmartGrant.Request binding = new SmartGrant.Request(single(saved, "redirect_uri"), single(saved, "state"),
                single(saved, "launch"), single(saved, "code_challenge"));
        return Optional.of(new Pending(clientId, AskingApp.displayName(client), scopes, single(saved, "launch"),
                redirectUri, single(saved, "state"), saved.getRedirectUrl(), binding));
    }

    private static String single(SavedRequest saved, String name) {
        String[] values = saved.getParameterValues(name);
        return values == null || values.length != 1 ? null : values[0];
    }

    private static String errorRedirect(Pending pending, String error) {
        UriComponentsBuilder uri = UriComponentsBuilder.fromUriString(pending.redirectUri()).queryParam("error", error);
        Map<String, String> values = new LinkedHashMap<>();
        if (pending.state() != null) {
            uri.queryParam("state", "{state}");
            values.put("state", pending.state());
        }
        return uri.encode().buildAndExpand(values).toUriString();
    }

    private static void endBrowserSession(HttpServletRequest request) {
        HttpSession session = request.getSession(false);
        if (session != null) {
            session.invalidate();
        }
    }

    private static ResponseEntity<String> nothingToApprove() {
        return page(HttpStatus.OK, "Nothing to approve", paragraph("There is no application request waiting for you."
                + " Start again from your application."));
    }

    private static ResponseEntity<String> launchInvalid() {
        return page(HttpStatus.OK, "Launch not valid", paragraph("This launch has expired, was used, or was not made for"
                + " you. Open the application again from your record system."));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<String> failure(Exception e) {
        log.error("The consent page failed", e);
        return page(HttpStatus.INTERNAL_SERVER_ERROR, "Allow this application?",
                paragraph("This page is unavailable. Try again later."));
    }
}
