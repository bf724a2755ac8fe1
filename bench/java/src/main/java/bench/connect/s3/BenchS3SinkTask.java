package bench.connect.s3;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Writes the records of its partitions as objects; see {@link BenchS3SinkConnector}.
 *
 * <p>Like Confluent's S3SinkTask, all S3 requests run on the task's own thread inside
 * {@code put()}: one object at a time, the next record waiting for the previous upload.
 */
public class BenchS3SinkTask extends SinkTask {
  private static final byte[] LINE_SEPARATOR = "\n".getBytes(StandardCharsets.UTF_8);

  /** What is buffered for one topic partition but not yet stored. */
  private static final class PartitionBuffer {
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    int records;
    long startOffset = -1;
    long lastOffset = -1;
    String encodedPartition;
    // The next offset to commit: one past the last record of the last stored object.
    long committable = -1;
  }

  private final Map<TopicPartition, PartitionBuffer> buffers = new HashMap<>();
  private S3Client s3;
  private String bucket;
  private int flushSize;
  private String topicsDir;
  private String extension;
  private boolean timePartitioner;
  private DateTimeFormatter pathFormat;
  private JsonConverter json;

  @Override
  public String version() {
    return "0";
  }

  @Override
  public void start(Map<String, String> props) {
    AbstractConfig config = new AbstractConfig(BenchS3SinkConnector.CONFIG_DEF, props);
    bucket = config.getString(BenchS3SinkConnector.BUCKET);
    flushSize = config.getInt(BenchS3SinkConnector.FLUSH_SIZE);
    topicsDir = config.getString(BenchS3SinkConnector.TOPICS_DIR);
    extension = config.getString(BenchS3SinkConnector.EXTENSION);
    timePartitioner = "time".equals(config.getString(BenchS3SinkConnector.PARTITIONER));
    pathFormat =
        DateTimeFormatter.ofPattern(config.getString(BenchS3SinkConnector.PATH_FORMAT))
            .withZone(ZoneId.of(config.getString(BenchS3SinkConnector.TIMEZONE)));
    if ("json".equals(config.getString(BenchS3SinkConnector.FORMAT))) {
      // As Confluent's JsonFormat: Kafka's JsonConverter without schemas; bytes become base64.
      json = new JsonConverter();
      json.configure(Map.of("schemas.enable", "false", "converter.type", "value"));
    }
    s3 =
        S3Client.builder()
            .endpointOverride(URI.create(config.getString(BenchS3SinkConnector.ENDPOINT)))
            .region(Region.of(config.getString(BenchS3SinkConnector.REGION)))
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(
                        config.getString(BenchS3SinkConnector.ACCESS_KEY),
                        config.getPassword(BenchS3SinkConnector.SECRET_KEY).value())))
            .forcePathStyle(true)
            // Checksums only where S3 requires them, as SDK v1 (Confluent's) sends none by
            // default; the newer default adds a CRC32 trailer to every part.
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build();
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      buffers.put(tp, new PartitionBuffer());
    }
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    // Unstored records are dropped: they were never committed, so they are read again.
    for (TopicPartition tp : partitions) {
      buffers.remove(tp);
    }
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    for (SinkRecord record : records) {
      TopicPartition tp = new TopicPartition(record.topic(), record.kafkaPartition());
      PartitionBuffer buffer = buffers.computeIfAbsent(tp, k -> new PartitionBuffer());
      String encoded = encodedPartition(record);
      // TimeBasedPartitioner: a record of another time path closes the current object first.
      if (buffer.records > 0 && !encoded.equals(buffer.encodedPartition)) {
        store(tp, buffer);
      }
      if (buffer.records == 0) {
        buffer.startOffset = record.kafkaOffset();
        buffer.encodedPartition = encoded;
      }
      byte[] value =
          json != null
              ? json.fromConnectData(record.topic(), record.valueSchema(), record.value())
              : (byte[]) record.value();
      if (value != null) {
        buffer.body.writeBytes(value);
      }
      buffer.body.writeBytes(LINE_SEPARATOR);
      buffer.records++;
      buffer.lastOffset = record.kafkaOffset();
      if (buffer.records >= flushSize) {
        store(tp, buffer);
      }
    }
  }

  private String encodedPartition(SinkRecord record) {
    if (!timePartitioner) {
      return "partition=" + record.kafkaPartition();
    }
    Long timestamp = record.timestamp();
    if (timestamp == null) {
      throw new ConnectException("record without timestamp at offset " + record.kafkaOffset());
    }
    return pathFormat.format(Instant.ofEpochMilli(timestamp));
  }

  /** One object as a multipart upload of one part: the 3 requests Confluent's sink makes. */
  private void store(TopicPartition tp, PartitionBuffer buffer) {
    String key =
        String.format(
            "%s/%s/%s/%s+%d+%010d%s",
            topicsDir, tp.topic(), buffer.encodedPartition, tp.topic(), tp.partition(),
            buffer.startOffset, extension);
    String uploadId =
        s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    String etag =
        s3.uploadPart(
                b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(1),
                RequestBody.fromBytes(buffer.body.toByteArray()))
            .eTag();
    s3.completeMultipartUpload(
        b ->
            b.bucket(bucket)
                .key(key)
                .uploadId(uploadId)
                .multipartUpload(
                    CompletedMultipartUpload.builder()
                        .parts(CompletedPart.builder().partNumber(1).eTag(etag).build())
                        .build()));
    buffer.body.reset();
    buffer.records = 0;
    buffer.committable = buffer.lastOffset + 1;
  }

  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    // Only what is stored: buffered records must be read again after a crash.
    Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
    for (Map.Entry<TopicPartition, PartitionBuffer> e : buffers.entrySet()) {
      if (e.getValue().committable >= 0) {
        result.put(e.getKey(), new OffsetAndMetadata(e.getValue().committable));
      }
    }
    return result;
  }

  @Override
  public void stop() {
    if (s3 != null) {
      s3.close();
    }
  }
}
