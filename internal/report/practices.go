package report

import "github.com/dockvet/dockvet/internal/finding"

// seedSection is a practice as the seed article (shared/seeds, the Docker
// security best practices dockvet automates) puts it: the title of its
// section and its advice, quoted in its own words. Reports that group
// findings by practice open each group with it, so a reader sees which
// piece of advice the findings break.
type seedSection struct {
	Title, Advice string
}

var seedSections = map[finding.Practice]seedSection{
	finding.PracticeUpdate: {"Regularly Update Docker and Host",
		"Container problems often result from preventable vulnerabilities, especially when a developer forgets to patch both the host operating system and the Docker Engine — this can result in kernel exploits. Therefore, regularly update Docker and its host to ensure compatibility and proper function."},
	finding.PracticeDaemonSocket: {"Secure the Docker Daemon Socket",
		"The daemon socket should never be available for remote access without proper encryption and authentication. Never expose the socket of a container by running Docker images with options like -v/var/run/docker.sock://var/run/docker.sock."},
	finding.PracticeNonRoot: {"Run Docker as a Non-Root User",
		"It is best for programmers looking to mitigate daemon and container run-time vulnerabilities to run Docker in rootless mode or as non-root users. Alternative methods can grant access to attackers, making entire nodes and clusters vulnerable to a cyberattack."},
	finding.PracticeResourceLimits: {"Set Container Resource Limits",
		"Programmers need to remember to set memory and CPU usage limits for containers. Without limitations, cybercriminals can intensify an attack by utilizing the underlying host resources after breaching resource-intensive containers."},
	finding.PracticeVulnerabilities: {"Manage the Images in Docker Containers",
		"If the developer fails to scan or inspect the images for vulnerabilities, those issues will carry over into the containers you make from the image."},
	finding.PracticeSmallImage: {"Keep Images Small",
		"Programmers should opt for minimalism over immediate convenience. Every additional component in your image represents another attack surface."},
	finding.PracticeSecrets: {"Keep Images Clean",
		"Hardcoding sensitive information into a Dockerfile is never a good idea because it is copied to Docker containers. Sometimes, the data is cached into container layers even after being deleted."},
	finding.PracticeRegistry: {"Secure Container Registries",
		"Registries can present security risks because there is no way to guarantee the source of the image. When considering best security practices, it is best to use a private registry behind a firewall."},
	finding.PracticeNetwork: {"Monitor API and Network Security",
		"The speed at which problems can propagate across applications and containers means organizations must use tools and practices to achieve observability of various components, including: Container engines, Docker hosts, Containerized middleware, Networking, Workloads running in containers."},
	finding.PracticeMonitoring: {"Monitor API and Network Security",
		"Real-time monitoring is essential for business operations, including when using Docker. Monitoring, tracking, and mitigating programs require constant supervision."},
	finding.PracticeNamespaces: {"Kernel Namespaces",
		"Kernel namespaces provide added security when operating a server running multiple services. The namespaces ensure services are isolated from each other, making the server less likely to experience a global attack."},
	finding.PracticeCapabilities: {"Linux Kernel Capabilities",
		"The primary capability of Linux kernel namespaces is isolation. The isolation is paramount to the stability and security of the services on a server."},
	finding.PracticeContentTrust: {"Docker Content Trust Signature Verification",
		"Docker Content Trust signatures allow businesses and developers to use digital signatures to provide verification of publishers and the integrity of images."},
	finding.PracticeHygiene: {"Use CI/CD for Testing and Deployment",
		"Continuous integration and delivery (CI/CD) enables developers to deliver changes and updates more frequently while maintaining quality and security best practices."},
}
