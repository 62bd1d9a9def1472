package health.carapace.testing;

import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * Looks at a PKCS#11 token through the JDK's raw wrapper ({@code sun.security.pkcs11.wrapper}),
 * below the SunPKCS11 provider, so that a test can see what the token itself says about a key
 * rather than what the provider's {@code Key} objects report.
 *
 * <p>The wrapper is internal to {@code jdk.crypto.cryptoki}: surefire exports it to the tests
 * ({@code --add-exports} in {@code carapace-server/pom.xml}), and it is reached by reflection
 * because {@code --release 17} does not let javac compile against it. Main code never uses it.
 *
 * <p>The JDK keeps one wrapper per library path, shared with every SunPKCS11 provider of the JVM,
 * so this sees the same sessions and login state as Carapace's provider. It initialises the
 * library exactly as SunPKCS11 does (OS locking), so it may be the first PKCS#11 user in the JVM.
 */
public final class TokenInspector {

    // PKCS#11 v2.40 constants (section 2 of the base specification).
    private static final long CKF_OS_LOCKING_OK = 0x2;
    private static final long CKF_SERIAL_SESSION = 0x4;
    private static final long CKF_RW_SESSION = 0x2;
    private static final long CKU_SO = 0;
    private static final long CKU_USER = 1;
    private static final long CKS_RO_USER_FUNCTIONS = 1;
    private static final long CKS_RW_USER_FUNCTIONS = 3;
    private static final long CKO_SECRET_KEY = 0x4;
    private static final long CKA_CLASS = 0x0;
    private static final long CKA_TOKEN = 0x1;
    private static final long CKA_LABEL = 0x3;
    private static final long CKA_VALUE = 0x11;
    private static final long CKA_SENSITIVE = 0x103;
    private static final long CKA_VALUE_LEN = 0x161;
    private static final long CKA_EXTRACTABLE = 0x162;
    private static final long CKA_LOCAL = 0x163;
    private static final long CKA_NEVER_EXTRACTABLE = 0x164;
    private static final long CKA_ALWAYS_SENSITIVE = 0x165;

    private static final String WRAPPER = "sun.security.pkcs11.wrapper.";

    /** A secret-key object as the token describes it. */
    public record SecretKeyObject(boolean tokenObject, boolean sensitive, boolean alwaysSensitive,
            boolean extractable, boolean neverExtractable, boolean generatedOnToken, long valueBytes) {}

    /** The token answered a call with a PKCS#11 error; the message is its name, e.g. {@code CKR_ATTRIBUTE_SENSITIVE}. */
    public static final class TokenRefusal extends RuntimeException {
        TokenRefusal(Throwable pkcs11Exception) {
            super(pkcs11Exception.getMessage(), pkcs11Exception);
        }
    }

    private final Class<?> wrapperClass;
    private final Object pkcs11;
    private final Class<?> attributeClass;

    private TokenInspector(Class<?> wrapperClass, Object pkcs11, Class<?> attributeClass) {
        this.wrapperClass = wrapperClass;
        this.pkcs11 = pkcs11;
        this.attributeClass = attributeClass;
    }

    public static TokenInspector of(String library) {
        try {
            Class<?> wrapper = Class.forName(WRAPPER + "PKCS11");
            Class<?> initArgsClass = Class.forName(WRAPPER + "CK_C_INITIALIZE_ARGS");
            Object initArgs = initArgsClass.getConstructor().newInstance();
            initArgsClass.getField("flags").setLong(initArgs, CKF_OS_LOCKING_OK);
            Object pkcs11 = wrapper.getMethod("getInstance", String.class, String.class, initArgsClass, boolean.class)
                    .invoke(null, library, "C_GetFunctionList", initArgs, false);
            return new TokenInspector(wrapper, pkcs11, Class.forName(WRAPPER + "CK_ATTRIBUTE"));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("The tests need --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper"
                    + "=ALL-UNNAMED (surefire sets it; add it to the IDE's run configuration)", e);
        } catch (InvocationTargetException e) {
            throw new TokenRefusal(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("This JDK's PKCS#11 wrapper differs from JDK 17's", e);
        }
    }

    /** Token labels in slot-list order: the index here is SunPKCS11's {@code slotListIndex}. */
    public List<String> tokenLabelsBySlotListIndex() {
        List<String> labels = new ArrayList<>();
        for (long slot : slots()) {
            Object info = call("C_GetTokenInfo", new Class<?>[] {long.class}, slot);
            labels.add(new String((char[]) field(info, "label")).trim());
        }
        return labels;
    }

    /** Whether this JVM holds a user login on the token (PKCS#11 login state is per application). */
    public boolean isLoggedIn(int slotListIndex) {
        long session = openSession(slotListIndex);
        try {
            Object info = call("C_GetSessionInfo", new Class<?>[] {long.class}, session);
            long state = (long) field(info, "state");
            return state == CKS_RO_USER_FUNCTIONS || state == CKS_RW_USER_FUNCTIONS;
        } finally {
            closeSession(session);
        }
    }

    /** Every secret key labelled {@code label} (private objects are visible only once logged in). */
    public List<SecretKeyObject> secretKeys(int slotListIndex, String label) {
        long session = openSession(slotListIndex);
        try {
            List<SecretKeyObject> keys = new ArrayList<>();
            for (long handle : findSecretKeys(session, label)) {
                Object[] values = getAttributeValue(session, handle, CKA_TOKEN, CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE,
                        CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL, CKA_VALUE_LEN);
                keys.add(new SecretKeyObject((Boolean) values[0], (Boolean) values[1], (Boolean) values[2],
                        (Boolean) values[3], (Boolean) values[4], (Boolean) values[5], (Long) values[6]));
            }
            return keys;
        } finally {
            closeSession(session);
        }
    }

    /**
     * Asks the token for the key's value ({@code CKA_VALUE}), the one way PKCS#11 has to hand out
     * a secret key's bytes. A sensitive key makes the token refuse with {@link TokenRefusal}.
     */
    public byte[] readKeyValue(int slotListIndex, String label) {
        long session = openSession(slotListIndex);
        try {
            long[] handles = findSecretKeys(session, label);
            if (handles.length != 1) {
                throw new IllegalStateException(handles.length + " secret keys carry the label " + label);
            }
            return (byte[]) getAttributeValue(session, handles[0], CKA_VALUE)[0];
        } finally {
            closeSession(session);
        }
    }

    /**
     * Takes the token away from every user of this process until the returned handle is closed: the
     * application is logged out of the token ({@code C_Logout}: the token forgets the login and every
     * private object handle, the KEK's included), every other session of the slot is closed (their
     * handles are dead) — what a network HSM's restart or a device reset does to its clients — and a
     * security-officer login is held on the slot, so that the token refuses the user's login
     * ({@code CKR_USER_ANOTHER_ALREADY_LOGGED_IN}) and hides its private keys until it is released.
     * (JDK 17's wrapper has no {@code C_CloseAllSessions}: the sessions are found by number.)
     *
     * <p>Several sessions hold the login: SoftHSM numbers new sessions in the places of closed ones, so
     * a provider that still closes one of its old (now dead) sessions by number may close one of these;
     * the officer stays logged in while any is open.
     */
    public AutoCloseable takeAway(int slotListIndex, String securityOfficerPin) {
        long slot = slots()[slotListIndex];
        RuntimeException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            List<Long> held = new ArrayList<>();
            try {
                for (int i = 0; i < 32; i++) {
                    held.add(openSession(slotListIndex, CKF_SERIAL_SESSION | CKF_RW_SESSION));
                }
                // logout and the officer's login back to back: the node may log in again in between
                try {
                    call("C_Logout", new Class<?>[] {long.class}, held.get(0));
                } catch (TokenRefusal notLoggedIn) {
                    // CKR_USER_NOT_LOGGED_IN: nobody was
                }
                call("C_Login", new Class<?>[] {long.class, long.class, char[].class}, held.get(0), CKU_SO,
                        securityOfficerPin.toCharArray());
                closeOtherSessions(slot, held);
                return () -> {
                    long releasing = openSession(slotListIndex, CKF_SERIAL_SESSION | CKF_RW_SESSION);
                    call("C_Logout", new Class<?>[] {long.class}, releasing);
                    closeSession(releasing);
                    for (long session : held) {
                        try {
                            closeSession(session);
                        } catch (TokenRefusal alreadyClosed) {
                            // closed by a provider that closed its old session of the same number
                        }
                    }
                };
            } catch (TokenRefusal refused) {
                // a provider logged the user in between the logout and the officer's login: again
                last = refused;
                for (long session : held) {
                    try {
                        closeSession(session);
                    } catch (TokenRefusal alreadyClosed) {
                        // gone with the others
                    }
                }
            }
        }
        throw last;
    }

    /**
     * Logs this process in to the token as its user until the returned handle is closed (PKCS#11 login
     * state belongs to the whole process, and lasts while any of its sessions on the slot is open). A
     * SunPKCS11 provider configured meanwhile skips its own {@code C_Login}, and so its PIN check.
     */
    public AutoCloseable logInAsUser(int slotListIndex, String userPin) {
        long session = openSession(slotListIndex);
        try {
            call("C_Login", new Class<?>[] {long.class, long.class, char[].class}, session, CKU_USER,
                    userPin.toCharArray());
        } catch (TokenRefusal refused) {
            if (!refused.getMessage().startsWith("CKR_USER_ALREADY_LOGGED_IN")) {
                closeSession(session);
                throw refused;
            }
        }
        return () -> {
            try {
                closeSession(session);
            } catch (TokenRefusal alreadyClosed) {
                // closed with the others when the token was taken away
            }
        };
    }

    /** Closes every session of {@code slot} but {@code keep}, found by number (SoftHSM numbers them from 1). */
    private void closeOtherSessions(long slot, List<Long> keep) {
        for (long session = 1; session <= 1024; session++) {
            if (keep.contains(session)) {
                continue;
            }
            try {
                Object info = call("C_GetSessionInfo", new Class<?>[] {long.class}, session);
                if ((long) field(info, "slotID") == slot) {
                    closeSession(session);
                }
            } catch (TokenRefusal noSuchSession) {
                // CKR_SESSION_HANDLE_INVALID: not open
            }
        }
    }

    private long[] slots() {
        return (long[]) call("C_GetSlotList", new Class<?>[] {boolean.class}, false);
    }

    private long openSession(int slotListIndex) {
        return openSession(slotListIndex, CKF_SERIAL_SESSION);
    }

    private long openSession(int slotListIndex, long flags) {
        long slot = slots()[slotListIndex];
        try {
            Class<?> notify = Class.forName(WRAPPER + "CK_NOTIFY");
            return (long) call("C_OpenSession", new Class<?>[] {long.class, long.class, Object.class, notify},
                    slot, flags, null, null);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    private void closeSession(long session) {
        call("C_CloseSession", new Class<?>[] {long.class}, session);
    }

    private long[] findSecretKeys(long session, String label) {
        Object template = Array.newInstance(attributeClass, 2);
        Array.set(template, 0, attribute(CKA_CLASS, CKO_SECRET_KEY));
        Array.set(template, 1, attribute(CKA_LABEL, label));
        Class<?> templateType = template.getClass();
        call("C_FindObjectsInit", new Class<?>[] {long.class, templateType}, session, template);
        try {
            return (long[]) call("C_FindObjects", new Class<?>[] {long.class, long.class}, session, 16L);
        } finally {
            call("C_FindObjectsFinal", new Class<?>[] {long.class}, session);
        }
    }

    /** The wrapper puts new attribute objects, holding the values, into the array it is given. */
    private Object[] getAttributeValue(long session, long handle, long... types) {
        Object array = Array.newInstance(attributeClass, types.length);
        for (int i = 0; i < types.length; i++) {
            Array.set(array, i, construct(new Class<?>[] {long.class}, types[i]));
        }
        call("C_GetAttributeValue", new Class<?>[] {long.class, long.class, array.getClass()}, session, handle, array);
        Object[] values = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            values[i] = field(Array.get(array, i), "pValue");
        }
        return values;
    }

    private Object attribute(long type, long value) {
        return construct(new Class<?>[] {long.class, long.class}, type, value);
    }

    private Object attribute(long type, String value) {
        return construct(new Class<?>[] {long.class, Object.class}, type, value);
    }

    private Object construct(Class<?>[] types, Object... args) {
        try {
            return attributeClass.getConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object field(Object target, String name) {
        try {
            return target.getClass().getField(name).get(target);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private Object call(String name, Class<?>[] types, Object... args) {
        try {
            // Looked up on the public wrapper class: the instance may be a non-public subclass.
            Method method = wrapperClass.getMethod(name, types);
            return method.invoke(pkcs11, args);
        } catch (InvocationTargetException e) {
            throw new TokenRefusal(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
