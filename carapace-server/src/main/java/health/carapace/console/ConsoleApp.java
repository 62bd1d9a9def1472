package health.carapace.console;

/** The console as the authorization server sees it: a built-in public sign-in app. */
public final class ConsoleApp {

    /** Its OAuth client id; every audit event of a console request names it as the app. */
    public static final String CLIENT_ID = "carapace-console";
    /** Where its pages live. */
    public static final String PATH = "/console";
    /** Where the authorization server sends the browser back with the code. */
    public static final String CALLBACK = PATH + "/callback";

    private ConsoleApp() {
    }
}
