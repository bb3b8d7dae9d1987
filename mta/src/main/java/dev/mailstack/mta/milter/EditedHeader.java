package dev.mailstack.mta.milter;

import dev.mailstack.mime.HeaderFields;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A message's header with the milters' changes applied (SMFIR_ADDHEADER, SMFIR_INSHEADER,
 * SMFIR_CHGHEADER), written before the unchanged body. A leading Return-Path stays first and is
 * not counted: milters never saw it. Added fields go on top, in the order they came, where trace
 * and authentication fields go: a DKIM verifier reads a signed field's last instance, bottom up
 * (RFC 6376 §5.4.2), so a field added on top cannot break a signature (sendmail appends them at
 * the bottom instead). A sender changed by a milter (SMFIR_CHGFROM) replaces the Return-Path,
 * which records the envelope's (RFC 5321 §4.4).
 */
public final class EditedHeader {
    private final String returnPath;
    private final List<String> fields;
    private int added;

    private EditedHeader(String returnPath, List<String> fields) {
        this.returnPath = returnPath;
        this.fields = fields;
    }

    /**
     * Reads the header of {@code message}, applies {@code changes} and the new return path if
     * any, writes the whole message to {@code out}.
     */
    public static void write(InputStream message, List<MilterReply.HeaderChange> changes, Optional<String> sender,
                             OutputStream out, int maxHeaderBytes) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        List<String> read = new ArrayList<>(HeaderFields.read(in, maxHeaderBytes));
        String returnPath = !read.isEmpty() && HeaderFields.name(read.get(0)).equals("return-path") ? read.remove(0) : null;
        EditedHeader header = new EditedHeader(returnPath, read);
        for (MilterReply.HeaderChange c : changes) {
            header.apply(c);
        }
        StringBuilder text = new StringBuilder();
        if (sender.isPresent()) {
            // the header is kept as octets (ISO-8859-1 here); the address is UTF-8, as written at DATA
            text.append("Return-Path: <")
                    .append(new String(sender.get().getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1))
                    .append(">\r\n");
        } else if (returnPath != null) {
            text.append(returnPath).append("\r\n");
        }
        for (String f : header.fields) {
            text.append(f).append("\r\n");
        }
        text.append("\r\n");
        out.write(text.toString().getBytes(StandardCharsets.ISO_8859_1));
        in.transferTo(out);
    }

    private void apply(MilterReply.HeaderChange change) {
        switch (change) {
            case MilterReply.AddHeader a -> fields.add(added++, field(a.name(), a.value()));
            // Indexes count in the header the milters saw: the fields added on top are not in it.
            case MilterReply.InsertHeader i -> fields.add(added + Math.min(i.index(), fields.size() - added),
                    field(i.name(), i.value()));
            case MilterReply.ChangeHeader c -> {
                // smfi_chgheader: index from 1 (0 counts as 1); past the last such field, the field is added
                int wanted = Math.max(c.index(), 1);
                int seen = 0;
                for (int i = added; i < fields.size(); i++) {
                    if (HeaderFields.name(fields.get(i)).equalsIgnoreCase(c.name()) && ++seen == wanted) {
                        if (c.value().isBlank()) {
                            fields.remove(i);
                        } else {
                            fields.set(i, field(c.name(), c.value()));
                        }
                        return;
                    }
                }
                if (!c.value().isBlank()) {
                    fields.add(added++, field(c.name(), c.value()));
                }
            }
        }
    }

    /**
     * "Name:value" with the value's line breaks as CRLF; a continuation line that does not start
     * with white space gets a tab, so it stays part of the field (RFC 5322 §2.2.3), and empty
     * lines are dropped (they would end the header).
     */
    static String field(String name, String value) {
        String[] lines = value.replace("\r\n", "\n").replace('\r', '\n').split("\n");
        StringBuilder f = new StringBuilder(name).append(':').append(lines.length == 0 ? "" : lines[0]);
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            f.append("\r\n");
            if (lines[i].charAt(0) != ' ' && lines[i].charAt(0) != '\t') {
                f.append('\t');
            }
            f.append(lines[i]);
        }
        return f.toString();
    }
}
