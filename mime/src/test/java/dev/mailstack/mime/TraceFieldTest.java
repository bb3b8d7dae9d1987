package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TraceFieldTest {
    private static String write(String message, String field) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TraceField.write(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)), field,
                f -> f.startsWith("X-Drop:"), out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void theFieldGoesFirstButAfterAReturnPath() throws IOException {
        assertEquals("New: 1\r\nReceived: x\r\n\tfolded\r\nSubject: s\r\n\r\nbody\r\n",
                write("Received: x\r\n\tfolded\r\nSubject: s\r\n\r\nbody\r\n", "New: 1\r\n"));
        assertEquals("Return-Path: <a@b>\r\nNew: 1\r\nReceived: x\r\n\r\nbody\r\n",
                write("Return-Path: <a@b>\r\nReceived: x\r\n\r\nbody\r\n", "New: 1\r\n"));
        assertEquals("Return-Path: <a@b>\r\nNew: 1\r\n\r\n", write("Return-Path: <a@b>\r\n\r\n", "New: 1\r\n"));
        assertEquals("New: 1\r\n", write("", "New: 1\r\n"));
    }

    @Test
    void droppedFieldsGoWithTheirContinuationLinesAndTheBodyIsUntouched() throws IOException {
        String body = "X-Drop: in the body stays\r\n\u00e4\u00bd\u00a0\r\n";
        assertEquals("New: 1\r\nA: 1\r\nB: 2\r\n\r\n" + body,
                write("X-Drop: one\r\n\tmore\r\nA: 1\r\nX-Drop: two\r\nB: 2\r\n\r\n" + body, "New: 1\r\n"));
    }
}
