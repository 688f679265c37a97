//! Name lists for generated clients: about 300 given and 500 family names from many origins,
//! some accented, some with apostrophes or hyphens, so that the trigram index sees the spread a
//! real center's register has (a few very common names, a long tail of rare ones).

/// Given names, whitespace-separated.
pub const GIVEN: &str = "\
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan \
Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew Betty Anthony Sandra \
Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin \
Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey \
Laura Ryan Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma \
Larry Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra \
Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler \
Catherine Aaron Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina \
Peter Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy Evelyn Christian Hannah Walter Andrea Keith Megan \
Austin Cheryl Roger Jacqueline Terry Madison Sean Teresa Gerald Abigail Carl Sophia Dylan Martha Harold \
Sara Jordan Gloria Jesse Janice Bryan Kathryn Lawrence Ann Arthur Isabella Gabriel Judy Bruce Charlotte \
Logan Julia Billy Grace Joe Amber Alan Alice Juan Jean Elijah Denise Willie Frances Albert Danielle \
Wayne Marilyn Randy Natalie Mason Beverly Vincent Diana Liam Brittany Roy Theresa Bobby Kayla Caleb \
Alexis Bradley Doris Russell Lori Lucas Tiffany José María Sofía Lucía Martín Andrés Inés Mónica Raúl \
Ángel Rubén Tomás Héctor Iñaki Begoña Joaquín Ramón Verónica Adrián Zoë Chloé Léa Hélène Théo Noémie \
Céline Anaïs Jérôme François Benoît Stéphane Amélie Agnès Thérèse Björn Søren Åsa Jürgen Günther Jörg \
Zoltán Ádám Dóra Łukasz Paweł Małgorzata Wojciech Dušan Jiří Tomáš Miloš Ana Nikola Ivana Dmitri Olga \
Svetlana Yuri Natasha Aleksandr Irina Kenji Yuki Hiroshi Akiko Haruto Sakura Wei Mei Jun Li Ming Xiu \
Hyun Min-jun Ji-woo Seo-yeon Priya Arjun Ananya Rohan Deepika Vikram Aisha Omar Fatima Yusuf Layla \
Hassan Zainab Ibrahim Amina Kwame Ama Kofi Abena Chidi Ngozi Emeka Adaeze Tendai Thandiwe Sipho Nia \
Malik Jamal Imani Darnell Keisha Tariq Leilani Kai Nalani Koa Mateo Valentina Santiago Camila Diego \
Ximena Emiliano Renata Sebastián Guadalupe Siobhán Seán Niamh Aoife Ciarán Eoin Róisín Oisín Saoirse";

/// Family names, whitespace-separated.
pub const FAMILY: &str = "\
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez \
Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark \
Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams \
Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz \
Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson \
Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray \
Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins \
Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero \
Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant \
Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez \
McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford \
Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer \
Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels \
Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold \
Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson \
Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Peña Richards \
Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins Greene Núñez \
Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison Franklin Carlson Austin Dominguez Carr \
Lawson Jacobs O'Brien Lynch Singh Vega Bishop Montgomery Oliver Jensen Harvey Williamson Gilbert Dean \
Sims Espinoza Howell Li Wong Reid Hanson Le McCoy Garrett Burton Fuller Wang Weber Welch Rojas Lucas \
Márquez Fields Park Yang Little Banks Padilla Day Walsh Bowman Schultz Luna Fowler Mejía Davidson \
Acosta Brewer May Holland Juárez Newman Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro \
Figueroa Keller Ávila Wade Molina Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert \
Miranda Byrd Craig Ayala Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton \
Schwartz Norris Jennings Watts Duran Walters Cohen McDaniel Moran Parks Steele Vaughn Becker Holt \
DeLeon Barker Terry Hale Leon Hail Benson Haynes Horton Miles Lyons Pham Graves Bush Thornton Wolfe \
Warner Cabrera McKinney Mann Zimmerman Dawson Lara Fletcher Page McCarthy Love Robles Cervantes \
Solis Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel Simon Velasquez Hardy Higgins \
Aguirre Lin Cummings Chandler Sharp Barber Bowen Ochoa Dennis Robbins Liu Ramsey Francis Griffith \
Paul Blair O'Connor Cardenas Pacheco Cross Calderon Quinn Moss Swanson Chan Rivas Khan Rodgers Serrano \
Fitzgerald Rosales Stevenson Christensen Manning Gill Curry McLaughlin Harmon McGee Gross Doyle Garner \
Newton Burgess Reese Walton Blake Trujillo Adkins Brady Goodman Roman Webster Goodwin Fischer Huang \
Potter Delacruz Montoya Todd Wu Hines Mullins Castaneda Malone Cannon Tate Mack Sherman Hubbard \
Hodges Zhang Guerra Wolf Valencia Saunders Franco Rowe Gallagher Farmer Hammond Hampton Townsend \
Ingram Wise Gallegos Clarke Barton Schroeder Maxwell Waters Logan Camacho Strickland Norman Person \
Colón Parsons Frank Harrington Glover Osborne Buchanan Casey Floyd Patton Ibarra Ball Tyler Suarez \
Bowers Orozco Salas Cobb Gibbs Andrade Bauer Conner Moody Escobar McGuire Lloyd Mueller Hartman \
French Kramer McBride Pope Lindsey Velazquez Norton McCormick Sparks Flynn Yates Hogan Marsh Macias \
Villanueva Zamora Pratt Stokes Owen Ballard Lang Brock Villarreal Charles Drake Barrera Cain Patrick \
Piñeiro Müller Schäfer Köhler Weiß Groß Bergström Lindqvist Åberg Sjöberg Håkansson Nørgaard Kowalski \
Wiśniewski Wójcik Zieliński Dvořák Novák Horváth Kovačević Jovanović Petrović Ivanova Smirnov Popescu \
Dubois Lefèvre Mercier Girard Bérénger Moreau Rousseau Faure Lemaître Gaspard Nakamura Tanaka Yamamoto \
Suzuki Takahashi Watanabe Kobayashi Sato Okafor Mensah Adeyemi Nwosu Eze Achebe Diallo Kamara Haddad \
Nasser Abdullah Rahman Iqbal Chaudhry Kapoor Sharma Gupta Reddy Iyer Nair Banerjee Castellanos \
O'Sullivan MacGiolla Ní-Bhriain Álvarez-Ruiz St-Pierre";

/// The names of a list, deduplicated, in list order.
pub fn list(names: &str) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    names.split_whitespace().filter(|n| seen.insert(*n)).collect()
}
