#!/usr/bin/env bash
# Compiles and runs small Java programs (the machine's JDK 17) to produce real
# output into parser/testdata/java/: OutOfMemoryError with -Xmx16m, an
# uncaught exception with a "Caused by:" chain and "... N more", a
# ConnectException to a dead port (18361), a connect timeout to a listener
# whose backlog is full (18362), a BindException (18363 taken), and
# java.util.logging's two-line records. Ports 18360-18363.
source "$(dirname "$0")/lib.sh"
apps_init java
cat > "$work/Oom.java" <<'J'
import java.util.*;
public class Oom { public static void main(String[] a) { List<long[]> l = new ArrayList<>(); while (true) l.add(new long[1 << 16]); } }
J
cat > "$work/Chain.java" <<'J'
public class Chain {
  static int parsePort(String s) { return Integer.parseInt(s); }
  static void loadConfig(String s) {
    try { parsePort(s); } catch (NumberFormatException e) { throw new IllegalStateException("invalid config: port", e); }
  }
  public static void main(String[] a) { loadConfig("80x"); }
}
J
cat > "$work/Refused.java" <<'J'
import java.net.*;
public class Refused {
  public static void main(String[] a) throws Exception {
    int port = Integer.parseInt(a[0]);
    try (Socket s = new Socket()) { s.connect(new InetSocketAddress("127.0.0.1", port), 1000); }
  }
}
J
cat > "$work/Wrapped.java" <<'J'
import java.net.*;
public class Wrapped {
  static void connectDb() { try (Socket s = new Socket("127.0.0.1", 18361)) { } catch (Exception e) { throw new RuntimeException("cannot reach database", e); } }
  public static void main(String[] a) throws Exception {
    Thread t = new Thread(Wrapped::connectDb, "pool-1-thread-1"); t.start(); t.join();
  }
}
J
cat > "$work/Bind.java" <<'J'
import java.net.*;
import java.util.logging.*;
public class Bind {
  public static void main(String[] a) throws Exception {
    Logger log = Logger.getLogger("com.example.Server");
    ServerSocket first = new ServerSocket(18363, 50, InetAddress.getByName("127.0.0.1"));
    log.info("listening on 127.0.0.1:18363");
    try { new ServerSocket(18363, 50, InetAddress.getByName("127.0.0.1")); }
    catch (BindException e) { log.log(Level.SEVERE, "cannot start second listener", e); }
    throw new BindException("Address already in use");
  }
}
J
(cd "$work" && javac -d . *.java)
run() { local name=$1; shift; (cd "$work" && "$@") > "$out/$name.log" 2>&1 || true; }
run oom java -Xmx16m Oom
run caused-by java Chain
run refused java Refused 18361
run wrapped-refused java Wrapped
python3 "$here/blackhole.py" 18362 5 > "$work/bh.out" &
bh=$!
for i in $(seq 50); do grep -q ready "$work/bh.out" 2>/dev/null && break; sleep 0.1; done
run connect-timeout java Refused 18362
kill $bh 2>/dev/null || true
run bind java Bind
# The same with a one-line, stamped JUL format (as logback/log4j layouts look).
run bind-stamped java '-Djava.util.logging.SimpleFormatter.format=%1$tF %1$tT.%1$tL %4$s %3$s - %5$s%6$s%n' Bind
echo "$(java -version 2>&1 | head -2 | tr '\n' ' ')" > "$out/VERSION"
