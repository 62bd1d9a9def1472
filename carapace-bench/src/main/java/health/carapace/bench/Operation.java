package health.carapace.bench;

/** One kind of FHIR interaction the bench sends. */
enum Operation {
    CREATE_PATIENT("create-patient", "POST Patient", true),
    READ_PATIENT("read-patient", "GET Patient/{id}", false),
    SEARCH_PATIENT_BY_IDENTIFIER("search-patient-by-identifier", "GET Patient?identifier={system}|{mrn}", false),
    CREATE_OBSERVATION("create-observation", "POST Observation (subject: a seeded patient)", true),
    SEARCH_OBSERVATIONS_BY_PATIENT("search-observations-by-patient", "GET Observation?patient=Patient/{id}", false),
    UPDATE_PATIENT("update-patient", "PUT Patient/{id} (a seeded patient: new name, address and phone, same MRN)", true),
    ISSUE_BACKEND_TOKEN("issue-backend-token",
            "POST /oauth2/token (client_credentials, private_key_jwt: an ES384 assertion signed before the run)", true);

    private final String label;
    private final String request;
    private final boolean write;

    Operation(String label, String request, boolean write) {
        this.label = label;
        this.request = request;
        this.write = write;
    }

    /** The name used in options, the table and the JSON report. */
    String label() {
        return label;
    }

    /** What goes over the wire, for the report's readers. */
    String request() {
        return request;
    }

    boolean isWrite() {
        return write;
    }

    /** Every operation but creating patients draws on patients seeded before the measurement. */
    boolean needsDataset() {
        return this != CREATE_PATIENT && this != ISSUE_BACKEND_TOKEN;
    }
}
