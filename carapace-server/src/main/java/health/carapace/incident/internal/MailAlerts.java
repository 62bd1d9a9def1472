package health.carapace.incident.internal;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.List;
import java.util.Properties;

/**
 * Sends alerts by e-mail over an encrypted connection only: implicit TLS, or STARTTLS with
 * {@code mail.smtp.starttls.required} (a server that does not offer it is refused, never fallen
 * back from); the certificate verified against the trust store and the host name checked.
 */
final class MailAlerts {

    private final AlertSettings settings;
    private final Session session;

    MailAlerts(AlertSettings settings) {
        this.settings = settings;
        Properties p = new Properties();
        String protocol = settings.implicitTls() ? "smtps" : "smtp";
        p.put("mail.transport.protocol", protocol);
        p.put("mail." + protocol + ".host", settings.smtpHost());
        p.put("mail." + protocol + ".port", Integer.toString(settings.smtpPort()));
        p.put("mail." + protocol + ".connectiontimeout", "10000");
        p.put("mail." + protocol + ".timeout", "10000");
        p.put("mail." + protocol + ".writetimeout", "10000");
        p.put("mail." + protocol + ".ssl.checkserveridentity", "true");
        p.put("mail." + protocol + ".ssl.socketFactory", settings.sslContext().getSocketFactory());
        p.put("mail." + protocol + ".ssl.protocols", "TLSv1.3 TLSv1.2");
        if (settings.implicitTls()) {
            p.put("mail.smtps.ssl.enable", "true");
        } else {
            p.put("mail.smtp.starttls.enable", "true");
            p.put("mail.smtp.starttls.required", "true");
        }
        if (settings.smtpUsername() != null) {
            p.put("mail." + protocol + ".auth", "true");
        }
        this.session = Session.getInstance(p);
    }

    void send(Alert alert, List<String> recipients) throws MessagingException {
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress(settings.from()));
        for (String recipient : recipients) {
            message.addRecipient(Message.RecipientType.TO, new InternetAddress(recipient));
        }
        message.setSubject(alert.subject(), "UTF-8");
        message.setText(alert.text(), "UTF-8");
        message.setHeader("X-Carapace-Incident", alert.incident().id().toString());
        // the same on every retry: a mailbox rule (or a person) can drop a second copy
        message.setHeader("X-Carapace-Alert", alert.idempotencyKey());
        try (Transport transport = session.getTransport()) {
            if (settings.smtpUsername() != null) {
                transport.connect(settings.smtpUsername(), settings.smtpPassword());
            } else {
                transport.connect();
            }
            transport.sendMessage(message, message.getAllRecipients());
        }
    }
}
