// Package ports knows which ports carry services that should not face a
// network: remote shells, the Docker API, databases and admin interfaces.
// Dockerfile EXPOSE, image config, Compose, `docker run -p` and live
// containers all ask it, so they agree.
package ports

import (
	"fmt"
	"strconv"
	"strings"
)

// Class groups sensitive services.
type Class int

// Classes of sensitive ports.
const (
	None     Class = iota
	Shell          // remote login: ssh, telnet, RDP, VNC
	Docker         // the Docker or Swarm API
	Database       // databases, caches, brokers
	Admin          // cluster and admin control planes
)

// Service describes a sensitive port.
type Service struct {
	Name  string
	Class Class
}

var sensitive = map[int]Service{
	22: {"SSH", Shell}, 23: {"telnet", Shell}, 3389: {"RDP", Shell}, 5900: {"VNC", Shell},
	2375: {"Docker API (plain HTTP)", Docker}, 2376: {"Docker API (TLS)", Docker}, 2377: {"Docker Swarm management", Docker},
	3306: {"MySQL/MariaDB", Database}, 5432: {"PostgreSQL", Database}, 27017: {"MongoDB", Database},
	27018: {"MongoDB", Database}, 27019: {"MongoDB", Database}, 6379: {"Redis", Database},
	9200: {"Elasticsearch", Database}, 9300: {"Elasticsearch transport", Database}, 11211: {"memcached", Database},
	1433: {"Microsoft SQL Server", Database}, 1521: {"Oracle Database", Database}, 5984: {"CouchDB", Database},
	9042: {"Cassandra", Database}, 7000: {"Cassandra inter-node", Database}, 7001: {"Cassandra inter-node (TLS)", Database},
	8086: {"InfluxDB", Database}, 26257: {"CockroachDB", Database}, 5672: {"AMQP (RabbitMQ)", Database},
	9092: {"Kafka", Database}, 4222: {"NATS", Database}, 2379: {"etcd", Admin}, 2380: {"etcd peer", Admin},
	15672: {"RabbitMQ management", Admin}, 6443: {"Kubernetes API", Admin}, 10250: {"kubelet API", Admin},
	8500: {"Consul HTTP API", Admin}, 8200: {"Vault API", Admin}, 2049: {"NFS", Admin}, 111: {"rpcbind", Admin},
	445: {"SMB", Admin}, 161: {"SNMP", Admin}, 9000: {"PHP-FPM / admin consoles", Admin},
}

// Lookup returns the sensitive service on a port, if any.
func Lookup(port int) (Service, bool) {
	s, ok := sensitive[port]
	return s, ok
}

// Range is a port or port range with its protocol, as in EXPOSE and -p.
type Range struct {
	From, To int
	Proto    string
}

func (r Range) String() string {
	s := strconv.Itoa(r.From)
	if r.To != r.From {
		s += "-" + strconv.Itoa(r.To)
	}
	return s + "/" + r.Proto
}

// Contains reports whether port is in the range.
func (r Range) Contains(port int) bool { return port >= r.From && port <= r.To }

// ParseRange reads "80", "80/tcp", "8000-8010/udp".
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	spec, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return Range{}, fmt.Errorf("port %q: unknown protocol %q", s, proto)
	}
	lo, hi, isRange := strings.Cut(spec, "-")
	from, err := strconv.Atoi(lo)
	if err != nil {
		return Range{}, fmt.Errorf("port %q is not a number", s)
	}
	to := from
	if isRange {
		if to, err = strconv.Atoi(hi); err != nil {
			return Range{}, fmt.Errorf("port range %q is not numeric", s)
		}
	}
	if from < 0 || to > 65535 || from > to {
		return Range{}, fmt.Errorf("port %q is outside 0-65535", s)
	}
	return Range{From: from, To: to, Proto: proto}, nil
}

// SensitiveIn lists the sensitive services a range covers, in port order.
func SensitiveIn(r Range) []int {
	var out []int
	if r.To-r.From > 65535 {
		return nil
	}
	for p := r.From; p <= r.To; p++ {
		if _, ok := sensitive[p]; ok {
			out = append(out, p)
		}
	}
	return out
}
