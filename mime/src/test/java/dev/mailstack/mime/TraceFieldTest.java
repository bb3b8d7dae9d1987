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
        TraceField.write(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)), field, out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void theFieldGoesFirstButAfterAReturnPathAndAllElseStaysAsItWas() throws IOException {
        String rest = "Received: x\r\n\tfolded\r\nSubject: s\r\n\r\nReturn-Path: in the body\r\n\u00e4\u00bd\u00a0\r\n";
        assertEquals("New: 1\r\n" + rest, write(rest, "New: 1\r\n"));
        assertEquals("Return-Path: <a@b>\r\nNew: 1\r\n" + rest, write("Return-Path: <a@b>\r\n" + rest, "New: 1\r\n"));
        assertEquals("return-path: <>\r\nNew: 1\r\n\r\n", write("return-path: <>\r\n\r\n", "New: 1\r\n"));
        assertEquals("New: 1\r\n", write("", "New: 1\r\n"));
        assertEquals("New: 1\r\nRet", write("Ret", "New: 1\r\n"));
    }
}
