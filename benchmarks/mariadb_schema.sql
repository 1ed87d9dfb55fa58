-- Benchmark schema (MariaDB), loaded into one database per server under test.
CREATE TABLE bench_users (id INT PRIMARY KEY, token VARCHAR(64) NOT NULL UNIQUE);
INSERT INTO bench_users SELECT seq, CONCAT('tok', seq) FROM seq_1_to_100000;
CREATE TABLE bench_rows (id BIGINT AUTO_INCREMENT PRIMARY KEY, seq BIGINT NOT NULL, ts BIGINT NOT NULL,
                         owner INT NOT NULL, pad TEXT NOT NULL);
CREATE TABLE bench_all (id BIGINT AUTO_INCREMENT PRIMARY KEY, seq BIGINT NOT NULL, ts BIGINT NOT NULL,
                        owner INT NOT NULL, pad TEXT NOT NULL);
