package bench.connect.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * A minimal S3 sink for the kafka-s3-sink benchmark: the request pattern of Confluent's S3 sink
 * (the reference deployment), without its breadth.
 *
 * <p>Neither Confluent's connector nor another Kafka Connect S3 sink is served by the Maven
 * registry reachable where the benchmark runs, so this stands in for it. What it keeps from
 * Confluent's S3 sink: records are buffered per topic partition and an object is written when
 * {@code flush.size} records are buffered, inside {@code put()}, as one S3 multipart upload
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload), one object after another;
 * offsets are committed through {@code preCommit()} only up to the last stored object; keys
 * are {@code <topics.dir>/<topic>/<time path>/<topic>+<partition>+<start offset, 10 digits>
 * <extension>}; bytearray bodies are each value followed by "\n", JSON bodies each value as
 * Kafka's JsonConverter (schemas off) writes it followed by "\n".
 */
public class BenchS3SinkConnector extends SinkConnector {
  static final String BUCKET = "s3.bucket.name";
  static final String REGION = "s3.region";
  static final String ENDPOINT = "store.url";
  static final String ACCESS_KEY = "aws.access.key.id";
  static final String SECRET_KEY = "aws.secret.access.key";
  static final String FLUSH_SIZE = "flush.size";
  static final String TOPICS_DIR = "topics.dir";
  static final String FORMAT = "format";
  static final String EXTENSION = "extension";
  static final String PARTITIONER = "partitioner";
  static final String PATH_FORMAT = "path.format";
  static final String TIMEZONE = "timezone";

  static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(BUCKET, Type.STRING, Importance.HIGH, "bucket")
          .define(REGION, Type.STRING, "us-east-1", Importance.LOW, "region")
          .define(ENDPOINT, Type.STRING, Importance.HIGH, "S3 endpoint (path-style)")
          .define(ACCESS_KEY, Type.STRING, Importance.HIGH, "access key")
          .define(SECRET_KEY, Type.PASSWORD, Importance.HIGH, "secret key")
          .define(FLUSH_SIZE, Type.INT, 1, Importance.HIGH, "records per object")
          .define(TOPICS_DIR, Type.STRING, "topics", Importance.LOW, "first part of keys")
          .define(FORMAT, Type.STRING, "bytearray", Importance.HIGH, "bytearray or json")
          .define(EXTENSION, Type.STRING, ".bin", Importance.LOW, "object extension")
          .define(
              PARTITIONER, Type.STRING, "time", Importance.HIGH,
              "time (record timestamp, as TimeBasedPartitioner) or default (partition=N)")
          .define(
              PATH_FORMAT, Type.STRING, "'year'=yyyy/'month'=MM/'day'=dd/'hour'=HH",
              Importance.LOW, "java.time pattern of the time path")
          .define(TIMEZONE, Type.STRING, "Asia/Tokyo", Importance.LOW, "zone of the time path");

  private Map<String, String> props;

  @Override
  public String version() {
    return "0";
  }

  @Override
  public void start(Map<String, String> props) {
    CONFIG_DEF.parse(props); // fail the connector at once on a missing or bad setting
    this.props = props;
  }

  @Override
  public Class<? extends Task> taskClass() {
    return BenchS3SinkTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>();
    for (int i = 0; i < maxTasks; i++) {
      configs.add(props);
    }
    return configs;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return CONFIG_DEF;
  }
}
