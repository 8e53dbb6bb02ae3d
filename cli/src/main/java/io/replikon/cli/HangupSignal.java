package io.replikon.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an action on SIGHUP, the signal operators send to make a daemon re-read its files. The JDK
 * offers signals only through {@code sun.misc.Signal} (module {@code jdk.unsupported}); it is
 * reached by reflection so that the build stays free of warnings about internal API, and where it
 * is missing (another JVM, Windows) the action is not installed and a warning says so.
 */
final class HangupSignal {
  private static final Logger LOG = LoggerFactory.getLogger(HangupSignal.class);

  private HangupSignal() {}

  /**
   * Installs {@code action} as this process's SIGHUP handler; it runs on the JVM's signal thread,
   * so it must be quick and must not throw (what it throws is logged).
   *
   * @return true if installed
   */
  static boolean onHangup(Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      InvocationHandler call = (proxy, method, args) -> {
        if (method.getName().equals("handle")) {
          try {
            action.run();
          } catch (RuntimeException e) {
            LOG.error("reloading on SIGHUP failed: {}", e.getMessage(), e);
          }
          return null;
        }
        return switch (method.getName()) {
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> "SIGHUP handler";
        };
      };
      Object proxy = Proxy.newProxyInstance(HangupSignal.class.getClassLoader(),
          new Class<?>[] {handler}, call);
      signal.getMethod("handle", signal, handler)
          .invoke(null, signal.getConstructor(String.class).newInstance("HUP"), proxy);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.warn("cannot reload trust files on SIGHUP on this JVM ({}); restart to reload them",
          e.toString());
      return false;
    }
  }
}
