// A small Java HTTP service (JDK's built-in server) run as containers often run
// Java: a small heap (-Xmx48m) and -XX:+ExitOnOutOfMemoryError, under a restart
// loop. /api/reconcile loads every entry into memory: "Java heap space", the JVM
// exits, the loop restarts it.
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

public class Ledger {
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    static void log(String level, String msg) {
        System.out.printf("%s %-5s [%s] ledger.Ledger - %s%n", LocalDateTime.now().format(TS), level,
                Thread.currentThread().getName(), msg);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "18597"));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            byte[] body;
            int code = 200;
            if (path.equals("/api/reconcile")) {
                log("INFO", "reconcile started: loading all ledger entries");
                List<byte[]> entries = new ArrayList<>();
                while (true) {
                    entries.add(new byte[1 << 20]);
                }
            } else if (path.startsWith("/api/")) {
                body = "{\"balance\":42}\n".getBytes(StandardCharsets.UTF_8);
            } else {
                code = 404;
                body = "{\"error\":\"not found\"}\n".getBytes(StandardCharsets.UTF_8);
            }
            ex.sendResponseHeaders(code, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        });
        server.start();
        log("INFO", "ledger listening on 127.0.0.1:" + port + " (pid " + ProcessHandle.current().pid() + ")");
    }
}
